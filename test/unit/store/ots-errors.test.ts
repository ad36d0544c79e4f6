import { describe, expect, it } from 'vitest';
import {
  decodeOtsError,
  decodeOtsErrorBody,
  isAmbiguousOtsCode,
  otsCodeToStoreError,
  toStoreError,
} from '../../../lib/store/ots-errors';
import { StoreConflict } from '../../../lib/store/store';

/** What the SDK does with an error body: protobuf bytes → UTF-8 text, plus ` requestId:<id>`. */
function sdkError(
  status: number,
  code: string,
  message: string,
  requestId = 'req-1',
): { code: number; message: string } {
  const field = (tag: number, bytes: Buffer): Buffer => {
    const len: number[] = [];
    let n = bytes.length;
    while (n >= 0x80) {
      len.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    len.push(n);
    return Buffer.concat([Buffer.from([tag, ...len]), bytes]);
  };
  const body = Buffer.concat([field(0x0a, Buffer.from(code)), field(0x12, Buffer.from(message))]);
  return { code: status, message: `${body.toString()} requestId:${requestId}` };
}

describe('decoding the SDK error', () => {
  it('reads the OTS code out of the protobuf body the SDK leaves in err.message', () => {
    const d = decodeOtsError(sdkError(403, 'OTSConditionCheckFail', 'Condition check failed.', 'abc-123'));
    expect(d).toEqual({
      httpStatus: 403,
      code: 'OTSConditionCheckFail',
      message: 'Condition check failed.',
      requestId: 'abc-123',
    });
  });

  it('still reads the code when a long message mangled the length prefix', () => {
    const long = 'x'.repeat(300);
    const d = decodeOtsError(sdkError(400, 'OTSParameterInvalid', long));
    expect(d.code).toBe('OTSParameterInvalid');
    expect(d.message).toContain('xxxx');
    expect(d.httpStatus).toBe(400);
  });

  it('matches the reference example byte for byte', () => {
    const text = '\n\x15OTSConditionCheckFail\x12\x17Condition check failed. requestId:0005-aa';
    expect(decodeOtsErrorBody(text)).toEqual({
      code: 'OTSConditionCheckFail',
      message: 'Condition check failed.',
      requestId: '0005-aa',
    });
  });

  it('does not invent a code from a body that is not a protobuf Error', () => {
    expect(decodeOtsError({ code: 502, message: '<html>bad gateway</html> requestId:' })).toEqual({
      httpStatus: 502,
      code: undefined,
      message: undefined,
      requestId: undefined,
    });
  });

  it('keeps transport failures by their SDK code', () => {
    expect(decodeOtsError({ code: 'NetworkingError', message: 'socket hang up' }).code).toBe(
      'NetworkingError',
    );
    expect(decodeOtsError({ code: 'Forbidden', message: 'req-9' })).toMatchObject({
      code: 'Forbidden',
      httpStatus: 403,
    });
  });
});

describe('mapping to StoreErrors', () => {
  it.each([
    ['OTSConditionCheckFail', 403, 'STORE_CONFLICT', false],
    ['OTSRowOperationConflict', 409, 'STORE_UNAVAILABLE', true],
    ['OTSServerBusy', 503, 'STORE_UNAVAILABLE', true],
    ['OTSTimeout', 503, 'STORE_UNAVAILABLE', true],
    ['OTSQuotaExhausted', 403, 'STORE_UNAVAILABLE', true],
    ['OTSNotEnoughCapacityUnit', 403, 'STORE_UNAVAILABLE', true],
    ['OTSInternalServerError', 500, 'STORE_UNAVAILABLE', true],
    ['OTSTableNotReady', 404, 'STORE_UNAVAILABLE', true],
    ['OTSObjectNotExist', 404, 'STORE_NOT_FOUND', false],
    ['OTSParameterInvalid', 400, 'STORE_INVALID', false],
    ['OTSAuthFailed', 403, 'STORE_AUTH', false],
    ['OTSSomethingNew', 503, 'STORE_UNAVAILABLE', true],
    ['OTSSomethingNew', 403, 'STORE_AUTH', false],
    ['OTSSomethingNew', 400, 'STORE_INVALID', false],
  ] as const)('%s (HTTP %i) → %s, retryable=%s', (code, status, expected, retryable) => {
    const err = toStoreError(sdkError(status, code, 'm'), { operation: 'PutRow', table: 't' });
    expect(err.code).toBe(expected);
    expect(err.retryable).toBe(retryable);
    expect(err.details).toMatchObject({
      vendorCode: code,
      httpStatus: status,
      operation: 'PutRow',
      table: 't',
      requestId: 'req-1',
    });
  });

  it('makes a condition failure a StoreConflict instance', () => {
    expect(otsCodeToStoreError('OTSConditionCheckFail', '', { operation: 'BatchWriteRow' })).toBeInstanceOf(
      StoreConflict,
    );
  });

  it('treats network errors and socket timeouts as retryable and ambiguous', () => {
    for (const code of ['NetworkingError', 'TimeoutError']) {
      const err = toStoreError({ code, message: 'x' }, { operation: 'UpdateRow' });
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      expect(isAmbiguousOtsCode(code)).toBe(true);
    }
    expect(isAmbiguousOtsCode('OTSServerBusy')).toBe(false);
  });

  it('reports an SDK encoding bug (a TypeError) as STORE_INVALID, not as an outage', () => {
    const err = toStoreError(new TypeError("Cannot read properties of undefined (reading 'x')"), {
      operation: 'PutRow',
    });
    expect(err).toMatchObject({ code: 'STORE_INVALID', retryable: false });
  });
});
