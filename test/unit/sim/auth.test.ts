import { describe, expect, it } from 'vitest';
import { encodePath, signRequest } from '../../../lib/ack/signer';
import type { AuthConfig, SignedRequest } from '../../../lib/sim/auth';
import { NonceCache, parseAuthorization, verifyRequest } from '../../../lib/sim/auth';

const NOW = Date.parse('2025-01-01T00:00:00Z');
const CFG: AuthConfig = {
  accessKeyId: 'LTAIsimulated',
  accessKeySecret: 'sim-secret-value',
  version: '2015-12-15',
  skewMs: 15 * 60_000,
};
const PATH = encodePath(['clusters', 'c0123456789abcdef', 'checks']);

function signed(
  over: {
    secret?: string;
    accessKeyId?: string;
    token?: string | undefined;
    now?: number;
    body?: string;
  } = {},
): SignedRequest {
  const body = over.body;
  const headers = signRequest({
    method: body === undefined ? 'GET' : 'POST',
    host: '127.0.0.1:4000',
    path: PATH,
    query: body === undefined ? { type: 'ClusterUpgrade' } : {},
    action: body === undefined ? 'ListClusterChecks' : 'RunClusterCheck',
    version: '2015-12-15',
    body,
    contentType: body === undefined ? undefined : 'application/json; charset=utf-8',
    credentials: {
      accessKeyId: over.accessKeyId ?? CFG.accessKeyId,
      accessKeySecret: over.secret ?? CFG.accessKeySecret,
      securityToken: over.token,
    },
    now: over.now ?? NOW,
    nonce: 'nonce-1',
  });
  return {
    method: body === undefined ? 'GET' : 'POST',
    rawPath: PATH,
    query: body === undefined ? { type: 'ClusterUpgrade' } : {},
    headers,
    body: Buffer.from(body ?? ''),
  };
}

describe('verifyRequest', () => {
  it('accepts a request signed by the checkwatch signer, GET and POST', () => {
    expect(verifyRequest(signed(), CFG, NOW)).toEqual({ ok: true, nonce: 'nonce-1' });
    expect(verifyRequest(signed({ body: '{"type":"ClusterUpgrade"}' }), CFG, NOW).ok).toBe(true);
  });

  it('answers 403 SignatureDoesNotMatch when the secret is wrong', () => {
    expect(verifyRequest(signed({ secret: 'another-secret' }), CFG, NOW)).toMatchObject({
      ok: false,
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('answers 403 when the query, path or body was altered after signing', () => {
    const req = signed();
    expect(verifyRequest({ ...req, query: { type: 'MasterUpgrade' } }, CFG, NOW)).toMatchObject({
      status: 403,
    });
    expect(verifyRequest({ ...req, rawPath: `${PATH}x` }, CFG, NOW)).toMatchObject({ status: 403 });
    const post = signed({ body: '{"type":"ClusterUpgrade"}' });
    expect(verifyRequest({ ...post, body: Buffer.from('{"type":"MasterUpgrade"}') }, CFG, NOW)).toMatchObject(
      {
        status: 403,
        code: 'SignatureDoesNotMatch',
      },
    );
  });

  it('answers like the gateway for an unknown AccessKey: 404 InvalidAccessKeyId.NotFound', () => {
    expect(verifyRequest(signed({ accessKeyId: 'LTAIother' }), CFG, NOW)).toMatchObject({
      status: 404,
      code: 'InvalidAccessKeyId.NotFound',
    });
  });

  it.each([
    ['16 minutes behind', -16 * 60_000, false],
    ['16 minutes ahead', 16 * 60_000, false],
    ['14 minutes ahead', 14 * 60_000, true],
    ['14 minutes behind', -14 * 60_000, true],
  ])('checks the x-acs-date window: a client %s is accepted=%s', (_what, skew, ok) => {
    const r = verifyRequest(signed({ now: NOW + skew }), CFG, NOW);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r).toMatchObject({ status: 400, code: 'InvalidTimeStamp.Expired' });
  });

  describe('with an STS token configured', () => {
    const sts = { ...CFG, securityToken: 'CAIS-sts-token-value' };
    it('accepts the signed token', () => {
      expect(verifyRequest(signed({ token: 'CAIS-sts-token-value' }), sts, NOW).ok).toBe(true);
    });
    it.each([
      ['missing', undefined, 'InvalidSecurityToken.Missing'],
      ['wrong', 'CAIS-other-token', 'InvalidSecurityToken.Mismatch'],
    ])('refuses a %s token with 403', (_what, token, code) => {
      expect(verifyRequest(signed({ token }), sts, NOW)).toMatchObject({ status: 403, code });
    });
    it('refuses a token that was added but not signed', () => {
      const req = signed({ token: 'CAIS-sts-token-value' });
      const auth = String(req.headers.authorization).replace('x-acs-security-token;', '');
      expect(
        verifyRequest({ ...req, headers: { ...req.headers, authorization: auth } }, sts, NOW),
      ).toMatchObject({
        status: 400,
        code: 'IncompleteSignature',
      });
    });
  });

  it('refuses an STS token when the simulator has none configured', () => {
    expect(verifyRequest(signed({ token: 'CAIS-sts-token-value' }), CFG, NOW)).toMatchObject({ status: 403 });
  });

  it.each([
    ['no authorization', { authorization: undefined }, 'IncompleteSignature'],
    ['a wrong version', { 'x-acs-version': '2018-04-18' }, 'InvalidVersion'],
    ['a malformed date', { 'x-acs-date': '2025-01-01 00:00:00' }, 'InvalidTimeStamp.Format'],
    ['no nonce', { 'x-acs-signature-nonce': undefined }, 'MissingSignatureNonce'],
  ])('answers 400 for %s', (_what, patch, code) => {
    const req = signed();
    expect(verifyRequest({ ...req, headers: { ...req.headers, ...patch } }, CFG, NOW)).toMatchObject({
      status: 400,
      code,
    });
  });
});

describe('parseAuthorization', () => {
  it('reads the three parts and refuses other schemes', () => {
    expect(
      parseAuthorization(
        `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=${'a'.repeat(64)}`,
      ),
    ).toEqual({ accessKeyId: 'AK', signedHeaders: ['host', 'x-acs-date'], signature: 'a'.repeat(64) });
    expect(parseAuthorization('acs AK:signature')).toBeUndefined();
    expect(parseAuthorization(undefined)).toBeUndefined();
  });
});

describe('NonceCache', () => {
  it('refuses a nonce reused within the window and forgets it after', () => {
    const cache = new NonceCache(1000);
    expect(cache.use('a', 0)).toBe(true);
    expect(cache.use('a', 500)).toBe(false);
    expect(cache.use('b', 5000)).toBe(true);
    expect(cache.use('a', 5000)).toBe(true);
  });

  it('stays bounded', () => {
    const cache = new NonceCache(60_000, 10);
    for (let i = 0; i < 100; i++) cache.use(`n${i}`, 0);
    expect(cache.use('n0', 0)).toBe(true);
    expect(cache.use('n99', 0)).toBe(false);
  });
});
