import type { AckApi, CallOptions, RunCheckInput } from '../../../lib/ack/api';
import { AckError } from '../../../lib/ack/errors';
import type { CheckDetail, CheckId, CheckSummary, ClusterId } from '../../../lib/domain/check';
import { loadConfig, type Config } from '../../../lib/config';

/** An in-memory AckApi: checks per cluster, and a log of every call with its options. */
export class FakeAck implements AckApi {
  readonly calls: { op: string; clusterId: string; input?: RunCheckInput; options?: CallOptions }[] = [];
  readonly clusters = new Map<string, CheckSummary[]>();
  private seq = 0;

  add(clusterId: string, checks: Partial<CheckSummary>[] = []): CheckSummary[] {
    const list = this.clusters.get(clusterId) ?? [];
    for (const c of checks) {
      this.seq += 1;
      list.push({
        checkId: (c.checkId ??
          `17000000000000000${String(this.seq).padStart(2, '0')}-${clusterId}-clustercheck-abcde`) as CheckId,
        type: c.type ?? 'ClusterUpgrade',
        status: c.status ?? 'Running',
        message: c.message ?? '',
        createdAt: c.createdAt ?? '2024-01-01T00:00:00.000000000Z',
        finishedAt: c.finishedAt ?? '',
      });
    }
    this.clusters.set(clusterId, list);
    return list;
  }

  private cluster(action: string, clusterId: string): CheckSummary[] {
    const list = this.clusters.get(clusterId);
    if (list === undefined) {
      throw new AckError('ACK_CLUSTER_NOT_FOUND', `${action} failed: HTTP 404 ErrorClusterNotFound`, {
        action,
        status: 404,
        ackCode: 'ErrorClusterNotFound',
      });
    }
    return list;
  }

  getClusterCheck(clusterId: ClusterId, checkId: CheckId, options?: CallOptions): Promise<CheckDetail> {
    this.calls.push({ op: 'get', clusterId, ...(options === undefined ? {} : { options }) });
    return Promise.resolve().then(() => {
      const found = this.cluster('GetClusterCheck', clusterId).find((c) => c.checkId === checkId);
      if (found === undefined) {
        throw new AckError('ACK_CHECK_NOT_FOUND', 'GetClusterCheck failed: HTTP 404', {
          action: 'GetClusterCheck',
          status: 404,
        });
      }
      return { ...found, checkItems: {} };
    });
  }

  listClusterChecks(
    clusterId: ClusterId,
    _filter?: { type?: string | undefined; target?: string | undefined },
    options?: CallOptions,
  ): Promise<CheckSummary[]> {
    this.calls.push({ op: 'list', clusterId, ...(options === undefined ? {} : { options }) });
    return Promise.resolve().then(() => [...this.cluster('ListClusterChecks', clusterId)]);
  }

  runClusterCheck(
    clusterId: ClusterId,
    input: RunCheckInput,
    options?: CallOptions,
  ): Promise<{ checkId: CheckId; requestId: string }> {
    this.calls.push({ op: 'run', clusterId, input, ...(options === undefined ? {} : { options }) });
    return Promise.resolve().then(() => {
      this.cluster('RunClusterCheck', clusterId);
      const [c] = this.add(clusterId, [{ type: input.type }]).slice(-1);
      return { checkId: c?.checkId as CheckId, requestId: `req-${this.seq}` };
    });
  }
}

export const TOKEN = 'unit-test-token-0123456789';

export function unitConfig(doc: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {
      CHECKWATCH_CONFIG: JSON.stringify({
        region: 'cn-hangzhou',
        channels: {
          hook: { type: 'webhook', url: 'https://hooks.example.com/x', secret: 'webhook-secret-abc' },
        },
        routes: { ops: { channels: ['hook'] }, release: { channels: ['hook'] } },
        defaults: { routes: ['ops'] },
        clusters: { cbeijing000000000000000000000001: { region: 'cn-beijing' } },
        api: { tokens: [TOKEN] },
        ...doc,
      }),
    },
  }).config;
}
