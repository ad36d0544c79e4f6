import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OpenApiUtil } from '@alicloud/openapi-core';
import {
  authorization,
  canonicalRequest,
  encodePath,
  EMPTY_BODY_SHA256,
  sha256Hex,
  signRequest,
  stringToSign,
} from '../../../lib/ack/signer';

const CLUSTER = 'c0123456789abcdef0123456789abcdef';
const CHECK = `1697100584236600453-${CLUSTER}-clustercheck-lboto`;
const base = {
  host: 'cs.cn-hangzhou.aliyuncs.com',
  version: '2015-12-15',
  credentials: { accessKeyId: 'YourAccessKeyId', accessKeySecret: 'YourAccessKeySecret' },
  now: Date.parse('2025-01-01T00:00:00Z'),
  nonce: '3156853299f313e23d1673dc12e1703d',
};

function signatureOf(auth: string | undefined): string {
  return /Signature=([0-9a-f]{64})$/.exec(auth ?? '')?.[1] ?? '';
}

describe('V3 signer: reference vectors (shared/reference/ack-api.md)', () => {
  it('matches the official SDK test "getAuthorization should ok"', () => {
    // That test passes no method: the official JS signer concatenates `undefined`, so the vector's
    // canonical request begins with the literal word "undefined" and an empty path.
    const auth = authorization(
      {
        method: 'undefined',
        path: '',
        query: { test: 'ok', empty: '' },
        headers: { 'x-acs-TEST': 'https', 'x-acs-test': 'http' },
        payloadHash: '55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23',
      },
      'acesskey',
      'secret',
    );
    expect(auth).toBe(
      'ACS3-HMAC-SHA256 Credential=acesskey,SignedHeaders=x-acs-test,Signature=0f2d549523cf082c83bb8135b5863614f7fe16ca7c2c7fc537e74d67374eeeac',
    );
  });

  it('signs GetClusterCheck (vector 2)', () => {
    const headers = signRequest({
      ...base,
      method: 'GET',
      path: encodePath(['clusters', CLUSTER, 'checks', CHECK]),
      query: {},
      action: 'GetClusterCheck',
    });
    const { canonical, signedHeaders } = canonicalRequest({
      method: 'GET',
      path: `/clusters/${CLUSTER}/checks/${CHECK}`,
      query: {},
      headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'authorization')),
      payloadHash: EMPTY_BODY_SHA256,
    });
    expect(sha256Hex(canonical)).toBe('aa7c9ea612d29baa5aeb922a858325e1e97835ff68df24a0cae78c04317239a2');
    expect(stringToSign(canonical)).toBe(
      'ACS3-HMAC-SHA256\naa7c9ea612d29baa5aeb922a858325e1e97835ff68df24a0cae78c04317239a2',
    );
    expect(signedHeaders).toBe(
      'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
    );
    expect(signatureOf(headers.authorization)).toBe(
      'f0050e192515b21522d6705a0b76a3c2b41ed77a11d9f42c2ad1f138e3bd6818',
    );
  });

  it('signs ListClusterChecks with a query (vector 3)', () => {
    const headers = signRequest({
      ...base,
      method: 'GET',
      path: encodePath(['clusters', CLUSTER, 'checks']),
      query: { type: 'ClusterUpgrade' },
      action: 'ListClusterChecks',
    });
    expect(signatureOf(headers.authorization)).toBe(
      '49a7d31d87e49a403a07c6686fe6aa8d128b70c0d331677f0f596191ba649a51',
    );
  });

  it('signs RunClusterCheck with an STS token and a JSON body (vector 4)', () => {
    const body = '{"options":{},"type":"ClusterUpgrade"}';
    expect(sha256Hex(body)).toBe('c24175b1f925c531f2a2f520b39c8eb2dd11e3384a817ec2b84389b2febf866c');
    const headers = signRequest({
      ...base,
      credentials: { ...base.credentials, securityToken: 'YourSecurityToken' },
      method: 'POST',
      path: encodePath(['clusters', CLUSTER, 'checks']),
      query: {},
      action: 'RunClusterCheck',
      body,
      contentType: 'application/json; charset=utf-8',
    });
    expect(headers['x-acs-security-token']).toBe('YourSecurityToken');
    expect(headers['x-acs-accesskey-id']).toBe('YourAccessKeyId');
    expect(headers.authorization).toContain(
      'SignedHeaders=content-type;host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,',
    );
    expect(signatureOf(headers.authorization)).toBe(
      '67585c67503b3b29a47112d1419332a8ee36a197ba14e741b4b42f4a9ade0639',
    );
  });

  it('encodes path segments so that a slash inside an id cannot change the path', () => {
    expect(encodePath(['clusters', 'a/b', 'checks', 'x y*~'])).toBe('/clusters/a%2Fb/checks/x%20y%2A~');
  });
});

describe('V3 signer: the official signer as an oracle', () => {
  // Query keys are ASCII identifiers in every ACK API; values and paths take anything.
  const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,11}$/);
  const value = fc.oneof(
    fc.constant(''),
    fc.constantFrom(' ', '*', '~', 'a b', "!'()", '+', '%20', '&=?', '中文', 'é'),
    fc.string({ unit: 'grapheme', maxLength: 16 }),
    fc.string({ maxLength: 16 }),
  );
  const segment = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    fc.constantFrom('a b', '*', '~x', 'ñandú', '集群', 'a+b', "it's", '(x)'),
  );

  it('produces the same Authorization as @alicloud/openapi-core for random requests', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        fc.array(segment, { minLength: 0, maxLength: 5 }),
        fc.dictionary(key, value, { maxKeys: 5 }),
        fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9+/=._-]{1,64}$/), { nil: undefined }),
        fc.stringMatching(/^[A-Za-z0-9]{8,30}$/),
        fc.string({ minLength: 1, maxLength: 40 }),
        (method, segments, query, body, token, akId, akSecret) => {
          const path = segments.length === 0 ? '/' : encodePath(segments);
          const headers = signRequest({
            method,
            host: 'cs.cn-beijing.aliyuncs.com',
            path,
            query,
            action: 'GetClusterCheck',
            version: '2015-12-15',
            body,
            contentType: body === undefined ? undefined : 'application/json; charset=utf-8',
            credentials: { accessKeyId: akId, accessKeySecret: akSecret, securityToken: token },
            now: 1_700_000_000_000,
            nonce: 'n0nce',
          });
          const { authorization: ours, ...unsigned } = headers;
          const theirs = OpenApiUtil.getAuthorization(
            { method, pathname: path, query, headers: unsigned } as never,
            'ACS3-HMAC-SHA256',
            unsigned['x-acs-content-sha256']!,
            akId,
            akSecret,
          );
          expect(ours).toBe(theirs);
        },
      ),
      { numRuns: 500 },
    );
  });
});
