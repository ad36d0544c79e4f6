import type { Rng } from './rng';
import { intBetween, pick, shuffled } from './rng';

/**
 * Realistic `check_items` for simulated checks, in the shape ACK documents:
 * `{ [itemName]: [{ Group, Level: { normal|advice|warning|error: { Message, Targets: [{ Target }] } } }] }`.
 * A failed check always carries at least one `error` item with a message and targets.
 */

export type SimLevel = 'normal' | 'advice' | 'warning' | 'error';

interface CatalogEntry {
  name: string;
  group: string;
  targets: readonly string[];
  messages: Readonly<Record<Exclude<SimLevel, 'normal'>, string>>;
}

const CATALOG: readonly CatalogEntry[] = [
  {
    name: 'DeprecatedAPI',
    group: 'ClusterResource',
    targets: ['v1beta1.metrics.k8s.io', 'policy/v1beta1/PodSecurityPolicy', 'batch/v1beta1/CronJob'],
    messages: {
      advice: 'Some resources use API versions that will be removed in a later release.',
      warning: 'Deprecated API versions are still being requested by clients.',
      error: 'Resources use API versions removed in the target version; migrate them before upgrading.',
    },
  },
  {
    name: 'NodePoolStatus',
    group: 'NodePool',
    targets: ['np-1a2b3c4d5e6f', 'np-7g8h9i0j1k2l', 'np-default'],
    messages: {
      advice: 'The node pool has nodes with an old OS image.',
      warning: 'The node pool has an ongoing scaling activity.',
      error: 'The node pool is not in the active state.',
    },
  },
  {
    name: 'AddonCompatibility',
    group: 'Addon',
    targets: ['coredns', 'terway-eniip', 'csi-plugin', 'nginx-ingress-controller', 'metrics-server'],
    messages: {
      advice: 'A newer version of the add-on is available.',
      warning: 'The add-on version is close to the end of support.',
      error: 'The add-on version is incompatible with the target Kubernetes version; upgrade it first.',
    },
  },
  {
    name: 'APIServerHealth',
    group: 'ControlPlane',
    targets: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
    messages: {
      advice: 'API server latency is higher than usual.',
      warning: 'API server reported transient errors in the last hour.',
      error: 'The API server is not healthy.',
    },
  },
  {
    name: 'NodeReadiness',
    group: 'Node',
    targets: ['cn-hangzhou.192.168.0.12', 'cn-hangzhou.192.168.0.13', 'cn-hangzhou.192.168.1.40'],
    messages: {
      advice: 'Some nodes have high disk usage.',
      warning: 'Some nodes report pressure conditions.',
      error: 'Nodes are NotReady.',
    },
  },
  {
    name: 'PodDisruptionBudget',
    group: 'Workload',
    targets: ['default/web', 'kube-system/coredns', 'prod/payments'],
    messages: {
      advice: 'Some workloads have no PodDisruptionBudget.',
      warning: 'A PodDisruptionBudget allows zero disruptions.',
      error: 'A PodDisruptionBudget blocks node draining during the upgrade.',
    },
  },
  {
    name: 'ClusterQuota',
    group: 'ClusterResource',
    targets: ['ecs.instances', 'slb.instances', 'vpc.route-entries'],
    messages: {
      advice: 'Quota usage is above 60%.',
      warning: 'Quota usage is above 80%.',
      error: 'Insufficient quota to complete the operation.',
    },
  },
  {
    name: 'CertificateExpiry',
    group: 'ControlPlane',
    targets: ['apiserver-kubelet-client', 'front-proxy-client', 'etcd-peer'],
    messages: {
      advice: 'A certificate expires within 90 days.',
      warning: 'A certificate expires within 30 days.',
      error: 'A certificate has expired.',
    },
  },
  {
    name: 'SecurityGroupRules',
    group: 'Network',
    targets: ['sg-bp1a2b3c4d5e6f7g8h', 'sg-bp9i0j1k2l3m4n5o6p'],
    messages: {
      advice: 'The security group has unused rules.',
      warning: 'The security group allows 0.0.0.0/0 on a management port.',
      error: 'Rules required by the cluster are missing from the security group.',
    },
  },
  {
    name: 'KubeletConfig',
    group: 'Node',
    targets: ['kubelet-config-np-1a2b3c', 'kubelet-config-default'],
    messages: {
      advice: 'Custom kubelet parameters will be reset during the upgrade.',
      warning: 'Kubelet parameters are not supported by the target version.',
      error: 'The kubelet configuration is invalid for the target version.',
    },
  },
];

type Entry = {
  Group: string;
  Level: Partial<Record<SimLevel, { Message: string; Targets: { Target: string }[] }>>;
};

function targetsOf(rng: Rng, entry: CatalogEntry, max: number): { Target: string }[] {
  return shuffled(rng, entry.targets)
    .slice(0, intBetween(rng, 1, Math.min(max, entry.targets.length)))
    .map((Target) => ({ Target }));
}

/**
 * Generates the items of a finished check. `failed` checks get 1–3 `error` items (some with a healthy
 * `normal` part next to the failing targets) and maybe a warning; succeeded ones are mostly `normal`
 * with the occasional advice or warning.
 */
export function generateCheckItems(rng: Rng, failed: boolean): Record<string, Entry[]> {
  const chosen = shuffled(rng, CATALOG).slice(0, intBetween(rng, 5, 8));
  const errors = failed ? intBetween(rng, 1, 3) : 0;
  const out: Record<string, Entry[]> = {};
  chosen.forEach((entry, i) => {
    let level: SimLevel = 'normal';
    if (i < errors) level = 'error';
    else {
      const r = rng();
      if (r < 0.12) level = 'warning';
      else if (r < 0.3) level = 'advice';
    }
    const item: Entry = { Group: entry.group, Level: {} };
    if (level === 'normal') {
      item.Level.normal = { Message: '', Targets: targetsOf(rng, entry, 3) };
    } else {
      item.Level[level] = { Message: entry.messages[level], Targets: targetsOf(rng, entry, 2) };
      if (rng() < 0.5) item.Level.normal = { Message: '', Targets: [{ Target: pick(rng, entry.targets) }] };
    }
    out[entry.name] = [item];
  });
  return out;
}
