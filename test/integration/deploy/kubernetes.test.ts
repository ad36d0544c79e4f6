import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config';

/**
 * The self-hosted manifests cannot be applied here (no cluster, no Docker engine), so this checks what
 * can be checked offline: every file parses, every object has the fields the API server requires, the
 * objects reference each other consistently (ConfigMap, Secret keys, PVC, ports, service account),
 * and the embedded checkwatch configuration is one `checkwatch serve` accepts.
 */

const ROOT = resolve(__dirname, '../../..');
const DIR = join(ROOT, 'deploy/kubernetes');
const NAMESPACE = 'checkwatch';

// Free-form parsed manifests: the assertions below are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function load(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'), { uniqueKeys: true });
  if (!Array.isArray(docs)) throw new Error(`${file}: empty`);
  return docs.map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJS() as Obj;
  });
}

const objects = files
  .filter((f) => f !== 'kustomization.yaml')
  .flatMap((f) => load(f).map((o) => ({ file: f, o })));
const one = (kind: string): Obj => {
  const found = objects.filter(({ o }) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!.o;
};

const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  PersistentVolumeClaim: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
};

describe('deploy/kubernetes manifests', () => {
  it('parses every file into objects of known kinds with a name, in the checkwatch namespace', () => {
    expect(objects.length).toBe(Object.keys(API_VERSIONS).length);
    for (const { file, o } of objects) {
      expect(API_VERSIONS[o.kind], `${file}: kind ${String(o.kind)}`).toBeDefined();
      expect(o.apiVersion, file).toBe(API_VERSIONS[o.kind]);
      expect(o.metadata?.name, file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      if (o.kind === 'Namespace') expect(o.metadata.name).toBe(NAMESPACE);
      else expect(o.metadata.namespace, file).toBe(NAMESPACE);
    }
  });

  it('lists every manifest in the kustomization, and nothing else', () => {
    const [k] = load('kustomization.yaml');
    expect(k?.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(k?.kind).toBe('Kustomization');
    expect(k?.namespace).toBe(NAMESPACE);
    expect([...(k?.resources as string[])].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml'));
  });

  it('sorts the namespace first, so that `kubectl apply -f` of the directory works too', () => {
    expect(objects[0]?.o.kind).toBe('Namespace');
  });

  it('turns on RRSA injection for the namespace and names the role on the service account', () => {
    expect(one('Namespace').metadata.labels['pod-identity.alibabacloud.com/injection']).toBe('on');
    const sa = one('ServiceAccount');
    expect(sa.metadata.annotations['pod-identity.alibabacloud.com/role-name']).toMatch(
      /^[A-Za-z0-9.-]{1,64}$/,
    );
    expect(one('Deployment').spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
  });

  it('runs exactly one replica and never two at once (SQLite is single-writer)', () => {
    const d = one('Deployment');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
  });

  it('runs `checkwatch serve` on the mounted configuration, listening on all interfaces', () => {
    const d = one('Deployment');
    const [c] = d.spec.template.spec.containers as Obj[];
    const args = c!.args as string[];
    expect(args[0]).toBe('serve');
    const configPath = args[args.indexOf('--config') + 1]!;
    expect(args[args.indexOf('--host') + 1]).toBe('0.0.0.0');
    const port = Number(args[args.indexOf('--port') + 1]);
    expect(c!.ports).toEqual([{ name: 'http', containerPort: port }]);

    const cm = one('ConfigMap');
    const mounts = c!.volumeMounts as Obj[];
    const volumes = d.spec.template.spec.volumes as Obj[];
    const configVolume = volumes.find((v) => v.configMap?.name === cm.metadata.name);
    const configMount = mounts.find((m) => m.name === configVolume?.name);
    expect(configMount?.readOnly).toBe(true);
    expect(Object.keys(cm.data)).toContain(configPath.slice(`${String(configMount?.mountPath)}/`.length));
    expect(configPath.startsWith(`${String(configMount?.mountPath)}/`)).toBe(true);
  });

  it('keeps the SQLite file on the claim and serves the API through the Service', () => {
    const d = one('Deployment');
    const pvc = one('PersistentVolumeClaim');
    expect(pvc.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(pvc.spec.resources.requests.storage).toMatch(/^\d+Gi$/);
    const volumes = d.spec.template.spec.volumes as Obj[];
    const dataVolume = volumes.find((v) => v.persistentVolumeClaim?.claimName === pvc.metadata.name);
    const [c] = d.spec.template.spec.containers as Obj[];
    const dataMount = (c!.volumeMounts as Obj[]).find((m) => m.name === dataVolume?.name);
    expect(dataMount?.readOnly).not.toBe(true);

    const cm = one('ConfigMap');
    const text = Object.values(cm.data as Record<string, string>)[0]!;
    const { config } = loadConfig({ env: { ...secretEnv(), CHECKWATCH_CONFIG: text } });
    expect(config.store.type).toBe('sqlite');
    if (config.store.type === 'sqlite')
      expect(config.store.path.startsWith(`${String(dataMount?.mountPath)}/`)).toBe(true);

    const svc = one('Service');
    expect(svc.spec.selector).toEqual(d.spec.template.metadata.labels);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'])
      expect(c![probe].httpGet, probe).toEqual({ path: '/v1/healthz', port: 'http' });
  });

  it('fills every secret the configuration references from the Secret', () => {
    const d = one('Deployment');
    const secret = one('Secret');
    const [c] = d.spec.template.spec.containers as Obj[];
    const fromSecret = (c!.env as Obj[]).filter((e) => e.valueFrom?.secretKeyRef !== undefined);
    expect(fromSecret.length).toBeGreaterThan(0);
    for (const e of fromSecret) {
      expect(e.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData)).toContain(e.valueFrom.secretKeyRef.key);
    }
    // The variables the container gets (plain values and secret references, secrets as dummies).
    const env: Record<string, string> = {};
    for (const e of c!.env as Obj[]) env[e.name] = e.value ?? `dummy-${String(e.name)}`;
    const cm = one('ConfigMap');
    const text = Object.values(cm.data as Record<string, string>)[0]!;
    const loaded = loadConfig({ env: { ...env, CHECKWATCH_CONFIG: text } });
    // A container listens beyond loopback: serve refuses to start without API tokens.
    expect(loaded.config.api.tokens.length).toBeGreaterThan(0);
    expect(loaded.config.dispatch.type).toBe('inline');
    // Every resolved secret came from a variable the Deployment sets.
    for (const path of loaded.secretPaths) expect(path).toMatch(/^(channels|api)\./);
    expect(loaded.secretPaths.length).toBe(fromSecret.length);
  });

  it('forbids the ECS-role fallback, so a broken RRSA setup fails loudly', () => {
    const [c] = one('Deployment').spec.template.spec.containers as Obj[];
    expect((c!.env as Obj[]).find((e) => e.name === 'ALIBABA_CLOUD_ECS_METADATA_DISABLED')?.value).toBe(
      'true',
    );
  });

  it('matches the image: entrypoint, configuration path and port of deploy/Dockerfile', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-slim/m);
    expect(dockerfile).toContain('npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "bin/checkwatch.cjs"]');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    const args = JSON.parse(cmd ?? '[]') as string[];
    const [c] = one('Deployment').spec.template.spec.containers as Obj[];
    expect(args).toEqual(c!.args);
  });
});

function secretEnv(): Record<string, string> {
  const secret = one('Secret');
  return { ...(secret.stringData as Record<string, string>) };
}
