import { describe, expect, it } from 'vitest';
import { fromFcHttpEvent, toFcHttpResponse } from '../../../lib/api/fc';
import { InputError } from '../../../lib/errors';

function fcEvent(over: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: '/v1/checks',
      body: '',
      isBase64Encoded: false,
      headers: {},
      queryParameters: {},
      requestContext: { http: { method: 'get', path: '/v1/checks' }, requestId: 'r-1' },
      ...over,
    }),
  );
}

describe('fromFcHttpEvent', () => {
  it('decodes a base64 body to the original bytes', () => {
    const bytes = Buffer.from('{"cluster_id":"c1","note":"ünïcødé 🙂"}', 'utf8');
    const req = fromFcHttpEvent(fcEvent({ body: bytes.toString('base64'), isBase64Encoded: true }));
    expect(req.body.equals(bytes)).toBe(true);
  });

  it('takes a plain body as UTF-8 text', () => {
    const req = fromFcHttpEvent(fcEvent({ body: '{"a":"ü"}' }));
    expect(req.body.toString('utf8')).toBe('{"a":"ü"}');
  });

  it('lower-cases header names and keeps comma-joined values, joining names that differ only by case', () => {
    const req = fromFcHttpEvent(
      fcEvent({
        headers: {
          'Content-Type': 'application/json',
          'X-Forwarded-For': '203.0.113.7, 10.0.0.1',
          'X-Dup': 'a',
          'x-dup': 'b',
          'X-Array': ['1', '2'],
        },
      }),
    );
    expect(req.headers).toEqual({
      'content-type': 'application/json',
      'x-forwarded-for': '203.0.113.7, 10.0.0.1',
      'x-dup': 'a,b',
      'x-array': '1,2',
    });
  });

  it('passes query parameters through, comma-joined when repeated', () => {
    const req = fromFcHttpEvent(fcEvent({ queryParameters: { cluster_id: 'c1', status: ['a', 'b'] } }));
    expect(req.query).toEqual({ cluster_id: 'c1', status: 'a,b' });
  });

  it('drops a __proto__ header or parameter without touching any prototype', () => {
    const raw = `{"rawPath":"/","headers":{"__proto__":{"polluted":"x"},"a":"1"},"queryParameters":{"__proto__":"y"},"requestContext":{"http":{"method":"GET"}}}`;
    expect(() => fromFcHttpEvent(raw)).not.toThrow();
    const req = fromFcHttpEvent(raw);
    expect(req.headers).toEqual({ a: '1' });
    expect(Object.keys(req.query)).toEqual([]);
    expect(Object.getPrototypeOf(req.headers)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(req.query)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('uses rawPath, falls back to the request context path, and drops a stray query', () => {
    expect(fromFcHttpEvent(fcEvent({ rawPath: '/v1/a%2Fb' })).path).toBe('/v1/a%2Fb');
    expect(fromFcHttpEvent(fcEvent({ rawPath: undefined })).path).toBe('/v1/checks');
    expect(fromFcHttpEvent(fcEvent({ rawPath: '/v1/checks?x=1' })).path).toBe('/v1/checks');
  });

  it('upper-cases the method and reads a missing body as empty', () => {
    const req = fromFcHttpEvent(fcEvent({ body: undefined, headers: null, queryParameters: null }));
    expect(req.method).toBe('GET');
    expect(req.body.length).toBe(0);
    expect(req.headers).toEqual({});
  });

  it.each([
    ['not JSON', 'nope'],
    ['a timer event', '{"triggerTime":"2024-01-01T00:00:00Z","triggerName":"t","payload":"{}"}'],
    ['an array', '[]'],
    ['a bad method', fcEvent({ requestContext: { http: { method: 'GE T' } } }).toString()],
    ['a bad base64 body', fcEvent({ body: '{not base64}', isBase64Encoded: true }).toString()],
  ])('refuses %s with an InputError', (_name, raw) => {
    expect(() => fromFcHttpEvent(raw)).toThrow(InputError);
  });
});

describe('toFcHttpResponse', () => {
  it('returns the FC shape with a text body', () => {
    const res = toFcHttpResponse({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(res).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json' },
      isBase64Encoded: false,
      body: '{"a":1}',
    });
  });
});
