import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InputError } from '../../../lib/errors';
import {
  MAX_ASYNC_EVENT_BYTES,
  TASK_ID_PATTERN,
  encodeDispatchEvent,
  parseDispatchEvent,
  taskIdFor,
  type DispatchRequest,
} from '../../../lib/dispatch/dispatch';

const CLUSTER = 'c0123456789abcdef0123456789abcdef';
const CHECK = `1697100584236600453-${CLUSTER}-clustercheck-lboto`;
const NOTIFY: DispatchRequest = { kind: 'notify', clusterId: CLUSTER, checkId: CHECK, generation: 0 };

const clusterId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{5,63}$/);
const checkId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/);
const generation = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const request: fc.Arbitrary<DispatchRequest> = fc.oneof(
  fc.record({ kind: fc.constant('notify' as const), clusterId, checkId, generation }),
  fc.record({ kind: fc.constant('poll-shard' as const), shard: fc.nat({ max: 1_000_000 }), generation }),
);

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('taskIdFor', () => {
  it('pins the task id format for a notify and a poll-shard request', () => {
    // 174222b0… = first 32 hex of sha256(CHECK), computed with `sha256sum`.
    expect(taskIdFor(NOTIFY)).toBe(`cw_n_${CLUSTER}_174222b005ef6c6cc5353ec8c76075de_0`);
    expect(taskIdFor({ ...NOTIFY, generation: 3 })).toBe(
      `cw_n_${CLUSTER}_174222b005ef6c6cc5353ec8c76075de_3`,
    );
    expect(taskIdFor({ kind: 'poll-shard', shard: 7, generation: 12 })).toBe('cw_p_7_12');
  });

  it('always matches FC task id rules, even for the longest ids', () => {
    fc.assert(
      fc.property(request, (req) => {
        expect(taskIdFor(req)).toMatch(TASK_ID_PATTERN);
      }),
    );
    const longest: DispatchRequest = {
      kind: 'notify',
      clusterId: 'c'.repeat(64),
      checkId: 'x'.repeat(256),
      generation: Number.MAX_SAFE_INTEGER,
    };
    expect(taskIdFor(longest).length).toBeLessThanOrEqual(128);
    expect(taskIdFor(longest)).toMatch(TASK_ID_PATTERN);
  });

  it('is deterministic, so re-sending the same generation is deduplicated', () => {
    fc.assert(
      fc.property(request, (req) => {
        expect(taskIdFor(structuredClone(req))).toBe(taskIdFor(req));
      }),
    );
  });

  it('differs between generations, checks, clusters and kinds', () => {
    const ids = new Set([
      taskIdFor(NOTIFY),
      taskIdFor({ ...NOTIFY, generation: 1 }),
      taskIdFor({ ...NOTIFY, checkId: `${CHECK}x` }),
      taskIdFor({ ...NOTIFY, clusterId: 'c1123456789abcdef0123456789abcdef' }),
      taskIdFor({ kind: 'poll-shard', shard: 0, generation: 0 }),
      taskIdFor({ kind: 'poll-shard', shard: 0, generation: 1 }),
      taskIdFor({ kind: 'poll-shard', shard: 1, generation: 0 }),
    ]);
    expect(ids.size).toBe(7);
  });

  it('refuses a malformed request with an InputError', () => {
    inputError(() => taskIdFor({ ...NOTIFY, generation: -1 }));
    inputError(() => taskIdFor({ ...NOTIFY, generation: 1.5 }));
    inputError(() => taskIdFor({ ...NOTIFY, checkId: 'has space' }));
    inputError(() => taskIdFor({ ...NOTIFY, clusterId: 'UPPER' }));
  });
});

describe('dispatch events', () => {
  it('round-trips every valid request, from a string or from the Buffer FC hands the handler', () => {
    fc.assert(
      fc.property(request, (req) => {
        const event = encodeDispatchEvent(req);
        expect(parseDispatchEvent(event)).toEqual(req);
        expect(parseDispatchEvent(Buffer.from(event, 'utf8'))).toEqual(req);
        expect(Buffer.byteLength(event)).toBeLessThan(MAX_ASYNC_EVENT_BYTES);
      }),
    );
  });

  it('pins the wire format: a version and the ids, nothing else', () => {
    expect(JSON.parse(encodeDispatchEvent(NOTIFY))).toEqual({
      v: 1,
      request: { kind: 'notify', clusterId: CLUSTER, checkId: CHECK, generation: 0 },
    });
  });

  it.each([
    ['not JSON', 'not json'],
    ['an empty buffer', ''],
    ['a timer event', '{"triggerTime":"2019-03-29T06:41:57Z","triggerName":"t","payload":"{}"}'],
    ['another version', JSON.stringify({ v: 2, request: NOTIFY })],
    ['an unknown kind', JSON.stringify({ v: 1, request: { ...NOTIFY, kind: 'explode' } })],
    [
      'a missing check id',
      JSON.stringify({ v: 1, request: { kind: 'notify', clusterId: CLUSTER, generation: 0 } }),
    ],
    ['a check id with a slash', JSON.stringify({ v: 1, request: { ...NOTIFY, checkId: 'a/b' } })],
    ['a string generation', JSON.stringify({ v: 1, request: { ...NOTIFY, generation: '0' } })],
    ['an extra field', JSON.stringify({ v: 1, request: { ...NOTIFY, document: {} } })],
    ['a negative shard', JSON.stringify({ v: 1, request: { kind: 'poll-shard', shard: -1, generation: 0 } })],
    ['null', 'null'],
  ])('rejects %s with an InputError', (_label, event) => {
    const err = inputError(() => parseDispatchEvent(event));
    expect(err.code).toBe('INVALID_INPUT');
  });

  it('does not echo event values into the error', () => {
    const secretish = 'c-not-a-valid-id-but-looks/like/a/secret';
    const err = inputError(() =>
      parseDispatchEvent(JSON.stringify({ v: 1, request: { ...NOTIFY, clusterId: secretish } })),
    );
    expect(JSON.stringify(err.toJSON())).not.toContain(secretish);
    expect(err.details.issues).toEqual([{ path: 'request.clusterId', code: 'invalid_format' }]);
  });

  it('rejects an event larger than the 128 KB async limit before parsing it', () => {
    const err = inputError(() => parseDispatchEvent(Buffer.alloc(MAX_ASYNC_EVENT_BYTES + 1, 0x20)));
    expect(err.message).toContain('128 KB');
  });
});
