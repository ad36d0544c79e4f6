import { describe, expect, it } from 'vitest';
import { AckError, type AckErrorCode } from '../../../lib/ack/errors';
import { createApiHandler, isJsonContentType, type ApiRequest } from '../../../lib/api/http';
import { splitTarget } from '../../../lib/api/server';
import type { WatchService } from '../../../lib/api/service';
import { ConfigError, CredentialsError, InputError } from '../../../lib/errors';
import { silentLogger } from '../../../lib/log';
import { StoreError, type StoreErrorCode } from '../../../lib/store/store';
import { TOKEN, unitConfig } from './fakes';

/** A service whose every method fails with `err`: the HTTP mapping is all that is under test. */
function failing(err: unknown): WatchService {
  // A non-Error rejection is one of the cases under test.
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
  const reject = () => Promise.reject(err);
  return {
    watchCheck: reject,
    runAndWatch: reject,
    watchCluster: reject,
    listChecks: reject,
    getCheck: reject,
    listWatches: reject,
    unwatchCheck: reject,
    unwatchCluster: reject,
  };
}

function req(over: Partial<ApiRequest> = {}): ApiRequest {
  return {
    method: 'GET',
    path: '/v1/watches',
    query: {},
    headers: { authorization: `Bearer ${TOKEN}` },
    body: Buffer.alloc(0),
    ...over,
  };
}

async function answer(err: unknown) {
  const handler = createApiHandler({ service: failing(err), config: unitConfig(), log: silentLogger });
  const res = await handler(req());
  return {
    status: res.status,
    headers: res.headers,
    body: JSON.parse(res.body) as {
      error: { code: string; message: string; details: Record<string, unknown> };
    },
  };
}

describe('error mapping', () => {
  it.each<[AckErrorCode, number]>([
    ['ACK_CLUSTER_NOT_FOUND', 404],
    ['ACK_CHECK_NOT_FOUND', 404],
    ['ACK_BAD_REQUEST', 400],
    ['ACK_FORBIDDEN', 502],
    ['ACK_THROTTLED', 503],
    ['ACK_SERVER_ERROR', 503],
    ['ACK_NETWORK', 503],
    ['ACK_TIMEOUT', 503],
    ['ACK_BAD_RESPONSE', 503],
    ['ACK_DEADLINE', 503],
  ])('answers %s with HTTP %i and the same code', async (code, status) => {
    const r = await answer(
      new AckError(code, 'GetClusterCheck failed', {
        action: 'GetClusterCheck',
        ackCode: 'X',
        requestId: 'R-1',
        snippet: '<html>',
      }),
    );
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.details).toEqual({ action: 'GetClusterCheck', ack_code: 'X', ack_request_id: 'R-1' });
    expect(r.headers['retry-after'] === undefined).toBe(status !== 503);
  });

  it('turns an ACK retry hint into whole seconds of Retry-After', async () => {
    const r = await answer(new AckError('ACK_THROTTLED', 'throttled', { retryAfterMs: 2_500 }));
    expect(r.headers['retry-after']).toBe('3');
  });

  it.each<[StoreErrorCode, number]>([
    ['STORE_UNAVAILABLE', 503],
    ['STORE_NOT_FOUND', 503],
    ['STORE_AUTH', 502],
    ['STORE_CONFLICT', 409],
    ['STORE_INVALID', 400],
  ])('answers %s with HTTP %i and no vendor details', async (code, status) => {
    const r = await answer(
      new StoreError(code, 'OTSServerBusy at table checkwatch_watch', {
        details: { vendorCode: 'OTSServerBusy', table: 'checkwatch_watch' },
      }),
    );
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.details).toEqual({});
    expect(r.body.error.message).not.toContain('OTS');
  });

  it('answers INVALID_INPUT with the field errors', async () => {
    const fields = [{ path: 'routes.0', message: 'no route named "x" is configured' }];
    const r = await answer(new InputError('unknown route', { details: { fields } }));
    expect(r.status).toBe(400);
    expect(r.body.error).toEqual({ code: 'INVALID_INPUT', message: 'unknown route', details: { fields } });
  });

  it('hides configuration and credential problems behind their codes', async () => {
    const c = await answer(new ConfigError('store.instance: expected FOO', { path: 'store.instance' }));
    expect(c.status).toBe(500);
    expect(c.body.error).toEqual({
      code: 'CONFIG_INVALID',
      message: 'checkwatch is misconfigured',
      details: {},
    });
    const k = await answer(new CredentialsError('no AccessKey in ~/.aliyun'));
    expect(k.status).toBe(503);
    expect(k.body.error.message).not.toContain('aliyun');
  });

  it('answers a thrown non-error with 500 INTERNAL', async () => {
    const r = await answer('a string');
    expect(r.status).toBe(500);
    expect(r.body.error).toEqual({
      code: 'INTERNAL',
      message: expect.stringMatching(/^internal error \(request id [0-9a-f-]{36}\)$/),
      details: {},
    });
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['APPLICATION/JSON;CHARSET="UTF-8"', true],
    ['application/json; boundary=x', true],
    ['application/json; charset=iso-8859-1', false],
    ['application/jsonp', false],
    ['text/json', false],
    ['', false],
  ])('%j → %s', (value, expected) => {
    expect(isJsonContentType(value)).toBe(expected);
  });
});

describe('splitTarget', () => {
  it('keeps a protocol-relative target as a path, not a host', () => {
    expect(splitTarget('//evil.example.com/v1/watches')).toEqual({
      path: '//evil.example.com/v1/watches',
      query: {},
    });
  });

  it('comma-joins repeated parameters and keeps encoded paths encoded', () => {
    expect(splitTarget('/v1/checks/a%2Fb?status=a&status=b&x=%20')).toEqual({
      path: '/v1/checks/a%2Fb',
      query: { status: 'a,b', x: ' ' },
    });
  });
});

describe('routing', () => {
  const handler = createApiHandler({
    service: failing(new Error('unused')),
    config: unitConfig(),
    log: silentLogger,
  });

  it.each([
    ['/v1/watches/checks', 'POST'],
    ['/v1/watches/checks/c0123456/x', 'DELETE'],
    ['/v1/watches/clusters/c0123456', 'DELETE'],
    ['/v1/clusters/c0123456/checks', 'POST'],
    ['/v1/checks/c0123456/x', 'GET'],
  ])('answers 405 on %s with Allow: %s', async (path, allow) => {
    const res = await handler(req({ method: 'HEAD', path }));
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
  });

  it('answers 400 INVALID_PATH for a path that does not start with /', async () => {
    const res = await handler(req({ path: 'v1/watches' }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('INVALID_PATH');
  });

  it('answers 413 when an adapter hands over a body over the limit', async () => {
    const res = await handler(
      req({
        method: 'POST',
        path: '/v1/watches/clusters',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: Buffer.alloc(unitConfig().api.maxBodyBytes + 1, 0x20),
      }),
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.details).toEqual({ max_bytes: 65_536 });
  });
});
