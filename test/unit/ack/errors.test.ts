import { describe, expect, it } from 'vitest';
import {
  ACK_RETRYABLE,
  AckError,
  errorFromResponse,
  errorFromTransport,
  failedBeforeSending,
  parseErrorBody,
  parseRetryAfter,
  snippetOf,
} from '../../../lib/ack/errors';
import { AppError } from '../../../lib/errors';

const HTML_502 =
  '<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>Tengine</center>\n</body>\n</html>';

describe('errorFromResponse', () => {
  it.each([
    // [what, status, body, onCheck, code, ackCode]
    [
      'Throttling.User in PascalCase with 400',
      400,
      '{"Code":"Throttling.User","Message":"flow control","RequestId":"R1"}',
      true,
      'ACK_THROTTLED',
      'Throttling.User',
    ],
    [
      'Throttling.Api in camelCase with 503',
      503,
      '{"code":"Throttling.Api","message":"x","requestId":"R1"}',
      false,
      'ACK_THROTTLED',
      'Throttling.Api',
    ],
    ['a bare 429', 429, '', false, 'ACK_THROTTLED', undefined],
    [
      '404 ErrorClusterNotFound on a Get',
      404,
      '{"code":"ErrorClusterNotFound","message":"cluster x not found"}',
      true,
      'ACK_CLUSTER_NOT_FOUND',
      'ErrorClusterNotFound',
    ],
    [
      '404 ErrorClusterNotFound on a List',
      404,
      '{"Code":"ErrorClusterNotFound"}',
      false,
      'ACK_CLUSTER_NOT_FOUND',
      'ErrorClusterNotFound',
    ],
    [
      'another 404 on a check',
      404,
      '{"code":"ErrorCheckNotFound","message":"gone"}',
      true,
      'ACK_CHECK_NOT_FOUND',
      'ErrorCheckNotFound',
    ],
    [
      'a 404 HTML page on a check',
      404,
      '<html><body>Not Found</body></html>',
      true,
      'ACK_CHECK_NOT_FOUND',
      undefined,
    ],
    [
      'a 404 without a cluster code on a List',
      404,
      '{"code":"InvalidAction.NotFound"}',
      false,
      'ACK_BAD_REQUEST',
      'InvalidAction.NotFound',
    ],
    [
      'the gateway 404 for an unknown AccessKey (not a vanished check)',
      404,
      '{"Code":"InvalidAccessKeyId.NotFound"}',
      true,
      'ACK_FORBIDDEN',
      'InvalidAccessKeyId.NotFound',
    ],
    [
      '403 SignatureDoesNotMatch',
      403,
      '{"Code":"SignatureDoesNotMatch"}',
      true,
      'ACK_FORBIDDEN',
      'SignatureDoesNotMatch',
    ],
    [
      '403 ErrorCheckAcl',
      403,
      '{"code":"ErrorCheckAcl","message":"no permission"}',
      false,
      'ACK_FORBIDDEN',
      'ErrorCheckAcl',
    ],
    [
      '400 IncompleteSignature',
      400,
      '{"Code":"IncompleteSignature"}',
      false,
      'ACK_FORBIDDEN',
      'IncompleteSignature',
    ],
    [
      '400 InvalidParameter',
      400,
      '{"code":"InvalidParameter","message":"type"}',
      false,
      'ACK_BAD_REQUEST',
      'InvalidParameter',
    ],
    [
      '400 InvalidTimeStamp.Expired (clock skew)',
      400,
      '{"Code":"InvalidTimeStamp.Expired"}',
      false,
      'ACK_BAD_REQUEST',
      'InvalidTimeStamp.Expired',
    ],
    [
      '500 InternalError',
      500,
      '{"Code":"InternalError","Message":"boom","RequestId":"R"}',
      true,
      'ACK_SERVER_ERROR',
      'InternalError',
    ],
    ['a 502 HTML gateway page', 502, HTML_502, true, 'ACK_SERVER_ERROR', undefined],
    [
      'a 503 XML error',
      503,
      '<?xml version="1.0"?><Error><RequestId>R9</RequestId><Code>ServiceUnavailable</Code><Message>later</Message></Error>',
      false,
      'ACK_SERVER_ERROR',
      'ServiceUnavailable',
    ],
    ['a truncated JSON 500', 500, '{"Code":"InternalErr', true, 'ACK_SERVER_ERROR', undefined],
    ['a 408', 408, '', false, 'ACK_TIMEOUT', undefined],
    ['a 302', 302, '', false, 'ACK_BAD_RESPONSE', undefined],
  ] as const)('classifies %s', (_what, status, body, onCheck, code, ackCode) => {
    const err = errorFromResponse({ action: 'GetClusterCheck', status, body, onCheck });
    expect(err).toBeInstanceOf(AckError);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(ACK_RETRYABLE[code]);
    expect(err.status).toBe(status);
    expect(err.ackCode).toBe(ackCode);
    expect(err.details.status).toBe(status);
  });

  it('takes the request id from the body in either casing, else from x-acs-request-id', () => {
    const pascal = errorFromResponse({
      action: 'A',
      status: 500,
      body: '{"RequestId":"B1"}',
      headerRequestId: 'H',
      onCheck: false,
    });
    const camel = errorFromResponse({
      action: 'A',
      status: 500,
      body: '{"requestId":"B2"}',
      headerRequestId: 'H',
      onCheck: false,
    });
    const html = errorFromResponse({
      action: 'A',
      status: 502,
      body: HTML_502,
      headerRequestId: 'H3',
      onCheck: false,
    });
    expect([pascal.requestId, camel.requestId, html.requestId]).toEqual(['B1', 'B2', 'H3']);
  });

  it('keeps a short single-line snippet of the body and the retry hint', () => {
    const err = errorFromResponse({
      action: 'ListClusterChecks',
      status: 429,
      body: `{"code":"Throttling.User",\n"message":"${'x'.repeat(1000)}"}`,
      retryAfterMs: 1500,
      onCheck: false,
    });
    expect(err.snippet).toMatch(/^\{"code":"Throttling.User", "message":"x+…$/);
    expect(err.snippet?.length).toBeLessThanOrEqual(201);
    expect(err.retryAfterMs).toBe(1500);
    expect(err.toJSON().details).toMatchObject({ retryAfterMs: 1500, ackCode: 'Throttling.User' });
  });

  it('puts the ACK code and message in the error message', () => {
    const err = errorFromResponse({
      action: 'RunClusterCheck',
      status: 400,
      body: '{"code":"InvalidParameter","message":"type is bad"}',
      onCheck: false,
    });
    expect(err.message).toBe('RunClusterCheck failed: HTTP 400 InvalidParameter: type is bad');
  });
});

describe('parseErrorBody', () => {
  it.each([
    ['', {}],
    ['null', {}],
    ['[1,2]', {}],
    ['{"Code":7}', { code: '7' }],
    ['{"code":"X","request_id":"r"}', { code: 'X', requestId: 'r' }],
    ['<Error><Code><![CDATA[Boom]]></Code></Error>', { code: 'Boom' }],
    ['<!DOCTYPE html><html><body><Code>not xml api</Code></body></html>', {}],
  ])('reads %j', (body, expected) => {
    expect(parseErrorBody(body)).toEqual(expected);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    [undefined, undefined],
    ['1500', 1500],
    [' 20 ', 20],
    [['300', '9'], 300],
    ['soon', undefined],
    ['-5', undefined],
    ['999999999', 120_000],
  ] as const)('reads %j as milliseconds like the official SDK, capped at 120 s', (value, expected) => {
    expect(parseRetryAfter(value as string | string[] | undefined)).toBe(expected);
  });
});

describe('transport errors', () => {
  const withCode = (code: string): Error => Object.assign(new Error(code), { code });

  it.each([
    ['ECONNREFUSED', 'ACK_NETWORK', true],
    ['ENOTFOUND', 'ACK_NETWORK', true],
    ['ECONNRESET', 'ACK_NETWORK', false],
    ['UND_ERR_SOCKET', 'ACK_NETWORK', false],
    ['UND_ERR_CONNECT_TIMEOUT', 'ACK_TIMEOUT', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'ACK_TIMEOUT', false],
  ] as const)('maps %s to %s (sent before failing: %s)', (code, expected, notSent) => {
    const err = errorFromTransport('GetClusterCheck', withCode(code));
    expect(err.code).toBe(expected);
    expect(err.retryable).toBe(true);
    expect(failedBeforeSending(err)).toBe(notSent);
  });

  it('finds the code on a wrapped cause', () => {
    const wrapped = new Error('fetch failed', { cause: withCode('ECONNREFUSED') });
    expect(failedBeforeSending(errorFromTransport('X', wrapped))).toBe(true);
  });
});

describe('snippetOf', () => {
  it('collapses whitespace and leaves short bodies whole', () => {
    expect(snippetOf('  a\n\n b\tc ')).toBe('a b c');
  });
});
