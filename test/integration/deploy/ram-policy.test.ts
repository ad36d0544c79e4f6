import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';

/**
 * The RAM documents in deploy/ are templates (`envsubst` fills the `${…}` placeholders, docs/DEPLOY.md).
 * These checks pin least privilege: exactly the actions checkwatch calls, on its own resources only.
 */

const ROOT = resolve(__dirname, '../../..');

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string[]>;
  Condition?: Record<string, Record<string, string>>;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

function policy(name: string): Policy {
  return JSON.parse(readFileSync(join(ROOT, 'deploy', name), 'utf8')) as Policy;
}
const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];
const actions = (p: Policy): string[] => p.Statement.flatMap((s) => list(s.Action)).sort();
const resourcesOf = (p: Policy, action: string): string[] =>
  p.Statement.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource));
const PLACEHOLDERS = new Set([
  'ACCOUNT_ID',
  'REGION',
  'OTS_INSTANCE',
  'CLUSTER_ID',
  'ACK_CLUSTER_ID',
  'OIDC_ISSUER_URL',
]);

describe('deploy/ram-policy.json (the functions’ role, and the self-hosted role)', () => {
  const p = policy('ram-policy.json');

  it('allows exactly what the poller, notifier and API call', () => {
    expect(p.Version).toBe('1');
    for (const s of p.Statement) expect(s.Effect).toBe('Allow');
    expect(actions(p)).toEqual(
      [
        'cs:GetClusterCheck',
        'cs:ListClusterChecks',
        'cs:RunClusterCheck',
        'ots:GetRow',
        'ots:PutRow',
        'ots:UpdateRow',
        'ots:DeleteRow',
        'ots:GetRange',
        'ots:BatchGetRow',
        'ots:BatchWriteRow',
        'ots:DescribeTable',
        'ots:ListTable',
        'fc:InvokeFunction',
      ].sort(),
    );
  });

  it('scopes every action to checkwatch’s own resources, never a bare wildcard', () => {
    for (const s of p.Statement) {
      for (const r of list(s.Resource)) {
        expect(r).not.toBe('*');
        expect(r.startsWith('acs:')).toBe(true);
      }
    }
    for (const a of ['cs:GetClusterCheck', 'cs:ListClusterChecks', 'cs:RunClusterCheck'])
      expect(resourcesOf(p, a)).toEqual(['acs:cs:*:${ACCOUNT_ID}:cluster/${CLUSTER_ID}']);
    expect(resourcesOf(p, 'ots:PutRow')).toEqual([
      'acs:ots:${REGION}:${ACCOUNT_ID}:instance/${OTS_INSTANCE}/table/checkwatch_*',
    ]);
    for (const r of resourcesOf(p, 'fc:InvokeFunction'))
      expect(r).toMatch(
        /^acs:fc:\$\{REGION\}:\$\{ACCOUNT_ID\}:functions\/checkwatch-(poller|notifier)(\/\*)?$/,
      );
  });

  it('leaves table creation to the init policy', () => {
    expect(actions(p)).not.toContain('ots:CreateTable');
    const init = policy('ram-policy-init.json');
    expect(actions(init)).toEqual(
      expect.arrayContaining(['ots:CreateTable', 'ots:CreateIndex', 'ots:ListTable']),
    );
    expect(actions(init).filter((a) => !a.startsWith('ots:'))).toEqual([]);
  });

  it('uses only the documented placeholders', () => {
    for (const name of [
      'ram-policy.json',
      'ram-policy-init.json',
      'ram-trust-fc.json',
      'ram-trust-rrsa.json',
    ]) {
      const text = readFileSync(join(ROOT, 'deploy', name), 'utf8');
      for (const m of text.matchAll(/\$\{([^}]*)\}/g))
        expect(PLACEHOLDERS.has(m[1]!), `${name}: ${m[0]}`).toBe(true);
    }
  });
});

describe('deploy/ram-trust-*.json', () => {
  it('lets Function Compute assume the functions’ role', () => {
    const t = policy('ram-trust-fc.json');
    expect(t.Statement).toEqual([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } },
    ]);
  });

  it('lets only the checkwatch service account assume the self-hosted role (RRSA)', () => {
    const [s] = policy('ram-trust-rrsa.json').Statement;
    expect(s?.Action).toBe('sts:AssumeRole');
    expect(s?.Principal?.Federated).toEqual([
      'acs:ram::${ACCOUNT_ID}:oidc-provider/ack-rrsa-${ACK_CLUSTER_ID}',
    ]);
    const sa = parseYaml(readFileSync(join(ROOT, 'deploy/kubernetes/10-serviceaccount.yaml'), 'utf8')) as {
      metadata: { name: string; namespace: string };
    };
    expect(s?.Condition?.StringEquals).toEqual({
      'oidc:iss': '${OIDC_ISSUER_URL}',
      'oidc:aud': 'sts.aliyuncs.com',
      'oidc:sub': `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
    });
  });
});
