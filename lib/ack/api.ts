import type { CheckDetail, CheckId, CheckSummary, ClusterId } from '../domain/check';

/** Where a call goes: the region picks the endpoint unless an override is configured. */
export interface CallOptions {
  /** Region of the cluster, e.g. `cn-hangzhou`. Defaults to the client's configured region. */
  readonly region?: string | undefined;
  /** Absolute epoch-ms deadline for the call, retries included. */
  readonly deadline?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface RunCheckInput {
  readonly type: string;
  /** Node-pool id when `type` is `NodePoolUpgrade`. */
  readonly target?: string | undefined;
  /** e.g. `{ next_version: '1.32.1-aliyun.1' }` for MasterUpgrade / ClusterUpgrade. */
  readonly options?: Readonly<Record<string, string>> | undefined;
}

/**
 * The ACK cluster-check API as checkwatch uses it: the port the poller, the API and the CLI depend on.
 * Implemented over undici with V3 signing by `AckClient` (lib/ack/client.ts). Failures are `AckError`s.
 */
export interface AckApi {
  getClusterCheck(clusterId: ClusterId, checkId: CheckId, options?: CallOptions): Promise<CheckDetail>;
  listClusterChecks(
    clusterId: ClusterId,
    filter?: { readonly type?: string | undefined; readonly target?: string | undefined },
    options?: CallOptions,
  ): Promise<CheckSummary[]>;
  runClusterCheck(
    clusterId: ClusterId,
    input: RunCheckInput,
    options?: CallOptions,
  ): Promise<{ checkId: CheckId; requestId: string }>;
}
