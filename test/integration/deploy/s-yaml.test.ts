import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config';

/**
 * Renders s.yaml and s.vpc.yaml with the real Serverless Devs CLI (`s preview`, offline, no
 * credentials) and checks what the fc3 component would receive: every function's props against the
 * component's own JSON schema, the settings the schema cannot express (it accepts almost any trigger
 * config), and that the rendered environment is one loadConfig accepts with the names cross-referenced.
 */

const ROOT = resolve(__dirname, '../../..');
const S_BIN = join(ROOT, 'node_modules/@serverless-devs/s/bin/s');
// CI checks out shared/ beside the repository; the schema is the fc3 component's src/schema.json.
const SCHEMA_PATH = resolve(ROOT, '../shared/reference/fc3-props.schema.json');
const FUNCTIONS = ['poller', 'notifier', 'api'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
/** What s renders for `config('AccountID')` without an access; `s deploy` puts the access's account id there. */
const ACCOUNT_PLACEHOLDER = "${config('AccountID')}";

interface Trigger {
  triggerName: string;
  triggerType: string;
  qualifier?: string;
  triggerConfig: Record<string, unknown>;
}
interface Props {
  region: string;
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  memorySize: number;
  timeout: number;
  role: string;
  logConfig: unknown;
  environmentVariables: Record<string, unknown>;
  asyncInvokeConfig?: Record<string, unknown>;
  vpcConfig?: Record<string, unknown>;
  triggers?: Trigger[];
}
interface Rendered {
  resources: Record<FunctionName, { component: string; props: Props }>;
  actions?: Record<string, Array<{ run?: string; path?: string }>>;
}

/** Every variable s.yaml and s.vpc.yaml read; '' selects the template's default (`env()` treats it as unset). */
const UNSET = {
  CHECKWATCH_REGION: '',
  CHECKWATCH_NAME_PREFIX: '',
  CHECKWATCH_ROLE_ARN: '',
  CHECKWATCH_FC_ACCOUNT_ID: '',
  CHECKWATCH_OTS_ENDPOINT: '',
  CHECKWATCH_CONFIG: '',
  CHECKWATCH_CONFIG_PATH: '',
  CHECKWATCH_LOG_LEVEL: '',
  CHECKWATCH_API_AUTH: '',
  CHECKWATCH_NOTIFIER_ON_FAILURE: '',
};
/** The variables without a default. */
const REQUIRED = {
  CHECKWATCH_OTS_INSTANCE: 'cwtest',
  CHECKWATCH_API_TOKEN: 'test-api-token-0123456789abcdef',
  DINGTALK_URL: 'https://oapi.dingtalk.com/robot/send?access_token=test-token',
  DINGTALK_SECRET: 'SECtest0123456789',
};

let work: string;

/**
 * Runs `s preview -o json --silent` with stdout into a file (piping it makes s hang), a private
 * HOME (no access, no environment defaults of the developer's own ~/.s) and a hard timeout.
 */
async function preview(template: string, vars: Record<string, string>): Promise<Rendered> {
  const out = join(work, `${template}.json`);
  const fd = openSync(out, 'w');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Nothing from the developer's shell may leak into the rendering.
    if (v !== undefined && !/^(CHECKWATCH_|DINGTALK_)/.test(k)) env[k] = v;
  }
  Object.assign(env, { HOME: join(work, 'home'), ...UNSET, ...REQUIRED, ...vars });
  let stderr = '';
  try {
    const code = await new Promise<number | null>((done, fail) => {
      const child = spawn(process.execPath, [S_BIN, 'preview', '-t', template, '-o', 'json', '--silent'], {
        cwd: ROOT,
        env,
        stdio: ['ignore', fd, 'pipe'],
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('error', fail);
      child.on('close', (c) => {
        clearTimeout(timer);
        done(c);
      });
    });
    if (code !== 0) throw new Error(`s preview -t ${template} exited ${String(code)}: ${stderr}`);
  } finally {
    closeSync(fd);
  }
  return JSON.parse(readFileSync(out, 'utf8')) as Rendered;
}

let defaults: Rendered;
let custom: Rendered;
const CUSTOM = {
  CHECKWATCH_REGION: 'cn-shanghai',
  CHECKWATCH_NAME_PREFIX: 'cw-test',
  CHECKWATCH_ROLE_ARN: 'acs:ram::1234567890123456:role/cw-test-fc',
  CHECKWATCH_FC_ACCOUNT_ID: '1234567890123456',
  CHECKWATCH_LOG_LEVEL: 'debug',
  CHECKWATCH_API_AUTH: 'function',
  CHECKWATCH_NOTIFIER_ON_FAILURE: 'acs:mns:cn-shanghai:1234567890123456:/topics/cw-dead-letters/messages',
  CHECKWATCH_CONFIG: JSON.stringify({
    channels: { team: { type: 'slack', url: { env: 'DINGTALK_URL' } } },
    routes: { all: { channels: ['team'] } },
    defaults: { routes: ['all'], shards: 4 },
  }),
  CHECKWATCH_VPC_ID: 'vpc-test',
  CHECKWATCH_VSWITCH_IDS: 'vsw-a,vsw-b',
  CHECKWATCH_SECURITY_GROUP_ID: 'sg-test',
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'cw-s-preview-'));
  mkdirSync(join(work, 'home'));
  [defaults, custom] = await Promise.all([preview('s.yaml', {}), preview('s.vpc.yaml', CUSTOM)]);
}, 90_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const props = (r: Rendered, fn: FunctionName): Props => r.resources[fn].props;

describe('s.yaml rendered by s preview', () => {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  // The vendor schema uses draft-07 tuple `items` without `minItems`/`additionalItems`, which Ajv's
  // strict mode rejects as a schema-authoring issue; it does not change what validates.
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

  it('declares exactly the three functions, each with the fc3 component', () => {
    for (const r of [defaults, custom]) {
      expect(Object.keys(r.resources).sort()).toEqual(['api', 'notifier', 'poller']);
      for (const fn of FUNCTIONS) expect(r.resources[fn].component).toBe('fc3');
    }
  });

  it.each(FUNCTIONS)('renders %s props that the fc3 schema accepts', (fn) => {
    for (const r of [defaults, custom]) {
      const ok = validate(props(r, fn));
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it('has a schema check that rejects what fc3 rejects (memory not a multiple of 64, no handler)', () => {
    const poller = props(defaults, 'poller');
    expect(validate({ ...poller, memorySize: 200 })).toBe(false);
    const { handler: _handler, ...noHandler } = poller;
    expect(validate(noHandler)).toBe(false);
  });

  it.each(FUNCTIONS)('builds %s from its bundle on nodejs20 with a role and automatic logs', (fn) => {
    for (const r of [defaults, custom]) {
      const p = props(r, fn);
      expect(p.runtime).toBe('nodejs20');
      expect(p.code).toBe(`./dist/${fn}`);
      expect(p.handler).toBe('index.handler');
      expect(p.memorySize % 64).toBe(0);
      expect(p.memorySize).toBeGreaterThanOrEqual(128);
      expect(p.logConfig).toBe('auto');
    }
    expect(props(defaults, fn).functionName).toBe(`checkwatch-${fn}`);
    expect(props(defaults, fn).region).toBe('cn-hangzhou');
    expect(props(defaults, fn).role).toBe(`acs:ram::${ACCOUNT_PLACEHOLDER}:role/checkwatch-fc`);
    expect(props(custom, fn).functionName).toBe(`cw-test-${fn}`);
    expect(props(custom, fn).region).toBe('cn-shanghai');
    expect(props(custom, fn).role).toBe(CUSTOM.CHECKWATCH_ROLE_ARN);
  });

  it('builds the bundles before deploying (pre-deploy action)', () => {
    for (const r of [defaults, custom]) {
      expect(r.actions?.['pre-deploy']).toEqual([{ run: 'npm run build', path: './' }]);
    }
  });

  it('triggers the poller every minute and gives its inner loop more than one tick', () => {
    for (const r of [defaults, custom]) {
      const p = props(r, 'poller');
      expect(p.triggers).toHaveLength(1);
      const timer = p.triggers?.[0];
      expect(timer?.triggerType).toBe('timer');
      expect(timer?.triggerConfig.cronExpression).toBe('@every 1m');
      expect(timer?.triggerConfig.enable).toBe(true);
      expect(p.timeout).toBeGreaterThanOrEqual(70);
      expect(p.timeout).toBeLessThanOrEqual(120);
      // The poller invokes itself per shard with a task id: async tasks on, no FC retries.
      expect(p.asyncInvokeConfig).toMatchObject({ asyncTask: true, maxAsyncRetryAttempts: 0 });
    }
  });

  it('enables async tasks on the notifier, with bounded retries and event age', () => {
    for (const r of [defaults, custom]) {
      const a = props(r, 'notifier').asyncInvokeConfig;
      expect(a?.asyncTask).toBe(true);
      expect(a?.maxAsyncRetryAttempts).toBeGreaterThanOrEqual(0);
      expect(a?.maxAsyncRetryAttempts).toBeLessThanOrEqual(8);
      expect(a?.maxAsyncEventAgeInSeconds).toBeGreaterThan(120);
      expect(props(r, 'notifier').triggers).toBeUndefined();
    }
  });

  it('adds the on-failure destination only when one is given', () => {
    expect(props(defaults, 'notifier').asyncInvokeConfig).not.toHaveProperty('destinationConfig');
    expect(props(custom, 'notifier').asyncInvokeConfig?.destinationConfig).toEqual({
      onFailure: { destination: CUSTOM.CHECKWATCH_NOTIFIER_ON_FAILURE },
    });
  });

  it('exposes the API through an HTTP trigger with the methods the API serves', () => {
    for (const [r, auth] of [
      [defaults, 'anonymous'],
      [custom, 'function'],
    ] as const) {
      const triggers = props(r, 'api').triggers ?? [];
      expect(triggers).toHaveLength(1);
      expect(triggers[0]?.triggerType).toBe('http');
      expect(triggers[0]?.triggerConfig.authType).toBe(auth);
      expect(triggers[0]?.triggerConfig.methods).toEqual(['GET', 'POST', 'DELETE']);
    }
  });

  it('gives all three functions one environment of strings only, within FC limits', () => {
    for (const r of [defaults, custom]) {
      const env = props(r, 'poller').environmentVariables;
      for (const fn of FUNCTIONS) expect(props(r, fn).environmentVariables).toEqual(env);
      for (const [key, value] of Object.entries(env)) {
        expect(typeof value, key).toBe('string');
        expect(key).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
        expect(key.startsWith('FC_')).toBe(false);
      }
      // FC: the environment of a function totals at most 4 KB.
      const bytes = Object.entries(env).reduce(
        (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
        0,
      );
      expect(bytes).toBeLessThan(4096);
    }
  });

  it('resolves the cross-referenced function names in the environment', () => {
    for (const r of [defaults, custom]) {
      const env = props(r, 'poller').environmentVariables;
      expect(env.CHECKWATCH_NOTIFIER_FUNCTION).toBe(props(r, 'notifier').functionName);
      expect(env.CHECKWATCH_POLLER_FUNCTION).toBe(props(r, 'poller').functionName);
      expect(env.CHECKWATCH_DISPATCH).toBe('fc');
      expect(env.CHECKWATCH_STORE).toBe('tablestore');
      expect(env.CHECKWATCH_REGION).toBe(props(r, 'poller').region);
    }
    expect(props(custom, 'poller').environmentVariables.CHECKWATCH_NOTIFIER_FUNCTION).toBe(
      'cw-test-notifier',
    );
  });

  it('defaults to the public Tablestore endpoint, and s.vpc.yaml to the VPC endpoint', () => {
    expect(props(defaults, 'poller').environmentVariables.CHECKWATCH_OTS_ENDPOINT).toBe(
      'https://cwtest.cn-hangzhou.ots.aliyuncs.com',
    );
    expect(props(custom, 'poller').environmentVariables.CHECKWATCH_OTS_ENDPOINT).toBe(
      'https://cwtest.cn-shanghai.vpc.tablestore.aliyuncs.com',
    );
  });

  it('attaches the VPC only in s.vpc.yaml, to every function', () => {
    for (const fn of FUNCTIONS) {
      expect(props(defaults, fn)).not.toHaveProperty('vpcConfig');
      expect(props(custom, fn).vpcConfig).toEqual({
        vpcId: 'vpc-test',
        vSwitchIds: ['vsw-a', 'vsw-b'],
        securityGroupId: 'sg-test',
      });
    }
  });

  it('renders an environment the functions accept (default configuration file)', () => {
    const env = { ...(props(defaults, 'poller').environmentVariables as Record<string, string>) };
    expect(env.CHECKWATCH_FC_ACCOUNT_ID).toBe(ACCOUNT_PLACEHOLDER);
    env.CHECKWATCH_FC_ACCOUNT_ID = '1234567890123456';
    const { config } = loadConfig({ env });
    expect(config.region).toBe('cn-hangzhou');
    expect(config.store).toMatchObject({
      type: 'tablestore',
      instance: 'cwtest',
      endpoint: 'https://cwtest.cn-hangzhou.ots.aliyuncs.com',
    });
    expect(config.dispatch).toMatchObject({
      type: 'fc',
      accountId: '1234567890123456',
      notifierFunction: 'checkwatch-notifier',
      pollerFunction: 'checkwatch-poller',
    });
    expect(config.channels['ops-dingtalk']).toMatchObject({ type: 'dingtalk', url: REQUIRED.DINGTALK_URL });
    expect(config.api.tokens).toEqual([REQUIRED.CHECKWATCH_API_TOKEN]);
  });

  it('renders an environment the functions accept (inline CHECKWATCH_CONFIG, VPC)', () => {
    const env = props(custom, 'poller').environmentVariables as Record<string, string>;
    const { config } = loadConfig({ env });
    expect(config.region).toBe('cn-shanghai');
    expect(config.dispatch).toMatchObject({
      type: 'fc',
      accountId: '1234567890123456',
      notifierFunction: 'cw-test-notifier',
      pollerFunction: 'cw-test-poller',
    });
    expect(config.defaults.shards).toBe(4);
    expect(Object.keys(config.channels)).toEqual(['team']);
  });
});
