import { summarizeCheckItems } from '../../../lib/domain/check-items';
import type { CheckMessage, DigestMessage, Outcome } from '../../../lib/domain/message';
import { consoleUrl } from '../../../lib/domain/message';

/** A deterministic `now` for every test that needs one: 2024-01-01T00:00:00Z. */
export const NOW = 1_704_067_200_000;

export const CLUSTER_ID = 'c0123456789abcdef0123456789abcdef';
export const CHECK_ID = `1697100584236600453-${CLUSTER_ID}-clustercheck-lboto`;

/** check_items in ACK's documented shape: one error, one warning, one advice, two normal. */
export const ACK_ITEMS = {
  NodeDiskPressure: [
    {
      Group: 'NodeHealth',
      Level: {
        error: {
          Message: 'disk usage 95% on the root volume exceeds 85%',
          Targets: [{ Target: 'cn-hangzhou.10.0.0.1' }, { Target: 'cn-hangzhou.10.0.0.2' }],
        },
      },
    },
  ],
  DeprecatedAPIs: [
    {
      Group: 'ClusterResource',
      Level: {
        warning: {
          Message: 'v1beta1 APIs removed in the target version are in use',
          Targets: [{ Target: 'v1beta1.metrics.k8s.io' }],
        },
      },
    },
  ],
  PodDisruptionBudget: [
    {
      Group: 'Workload',
      Level: { advice: { Message: 'PDB with maxUnavailable 0', Targets: [{ Target: 'default/web' }] } },
    },
  ],
  APIServerHealth: [
    { Group: 'ControlPlane', Level: { normal: { Message: '', Targets: [{ Target: 'kube-apiserver' }] } } },
  ],
  EtcdHealth: [{ Group: 'ControlPlane', Level: { normal: { Message: '', Targets: [] } } }],
};

/** `n` failing items, each with a long message and many targets (size-limit tests). */
export function hugeItems(n: number): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (let i = 0; i < n; i++) {
    out[`Item${String(i).padStart(5, '0')}`] = [
      {
        Group: 'Group',
        Level: {
          [i % 3 === 0 ? 'error' : 'warning']: {
            Message: `problem ${i}: ` + 'x'.repeat(600),
            Targets: Array.from({ length: 15 }, (_, j) => ({ Target: `node-${i}-${j}.` + 'y'.repeat(40) })),
          },
        },
      },
    ];
  }
  return out;
}

export function checkMessage(outcome: Outcome, over: Partial<CheckMessage> = {}): CheckMessage {
  const base: CheckMessage = {
    outcome,
    clusterId: CLUSTER_ID,
    clusterName: 'prod-hangzhou',
    region: 'cn-hangzhou',
    checkId: CHECK_ID,
    type: 'ClusterUpgrade',
    status: outcome === 'passed' ? 'Succeeded' : outcome === 'failed' ? 'Failed' : 'Running',
    message: outcome === 'passed' ? 'task succeed' : outcome === 'failed' ? 'precheck failed: 1 error' : '',
    createdAt: '2023-10-16T08:31:20.292030178Z',
    finishedAt: outcome === 'passed' || outcome === 'failed' ? '2023-10-16T08:35:20.292030178Z' : '',
    summary: summarizeCheckItems(
      outcome === 'passed'
        ? { APIServerHealth: ACK_ITEMS.APIServerHealth }
        : outcome === 'failed'
          ? ACK_ITEMS
          : undefined,
    ),
    consoleUrl: consoleUrl('cn-hangzhou', CLUSTER_ID),
  };
  if (outcome === 'gave_up') base.durationMs = 24 * 3600_000;
  return { ...base, ...over };
}

export function digest(n = 4): DigestMessage {
  const outcomes: Outcome[] = ['failed', 'passed', 'gave_up', 'vanished'];
  return {
    items: Array.from({ length: n }, (_, i) =>
      checkMessage(outcomes[i % outcomes.length]!, {
        checkId: `16971005842366004${String(i).padStart(2, '0')}-${CLUSTER_ID}-clustercheck-d${i}`,
        type: i % 2 === 0 ? 'ClusterUpgrade' : 'NodePoolUpgrade',
        ...(i % 2 === 0 ? {} : { target: `np-${i}` }),
      }),
    ),
  };
}
