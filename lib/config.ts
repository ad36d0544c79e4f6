import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod/mini';
import { ConfigError } from './errors';
import { Redactor } from './log';
import { DEFAULT_MAX_AGE_MS } from './domain/transitions';
import { validateTemplate } from './domain/template';

/**
 * checkwatch's one configuration: a YAML or JSON file and/or environment variables (Function Compute
 * passes everything as strings in env). Validated once, at start, into a typed object (STYLE.md 6):
 * unknown keys are errors, and a bad value fails with its path (or the variable's name) and what was
 * expected. Secrets are given by reference (`{ env: NAME }`) and resolved here; every resolved secret
 * is registered with the returned Redactor so that no log line can carry it.
 * The reference for users is docs/CONFIGURATION.md.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

// zod/mini (not classic zod): the same validation at a fraction of the bundle size and load time,
// which every Function Compute cold start pays. Messages come from `issueMessage` below.
const str = (re?: RegExp, message?: string): z.ZodMiniString =>
  re === undefined ? z.string() : z.string().check(z.regex(re, message));
const nonEmpty = (max?: number): z.ZodMiniString =>
  max === undefined ? z.string().check(z.minLength(1)) : z.string().check(z.minLength(1), z.maxLength(max));
const int = (min: number, max: number): z.ZodMiniNumber => z.number().check(z.int(), z.gte(min), z.lte(max));

/** Milliseconds, given as a number of ms or a string like `30s`, `5m`, `24h`. */
export const durationSchema = z.union([
  int(0, Number.MAX_SAFE_INTEGER),
  z.pipe(
    str(DURATION, 'expected a duration like 500ms, 30s, 5m, 24h or 30d'),
    z.transform((s: string) => {
      const m = DURATION.exec(s);
      return Math.round(Number(m?.[1]) * UNIT_MS[(m?.[2] ?? 'ms') as keyof typeof UNIT_MS]);
    }),
  ),
]);

/** A secret: `{ env: NAME }` (recommended) or a literal string (discouraged; masked everywhere). */
const secretRefSchema = z.union([
  nonEmpty(),
  z.strictObject({ env: str(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') }),
]);
type SecretRef = z.infer<typeof secretRefSchema>;

const REGION = str(/^[a-z]{2,}-[a-z0-9-]+$/, 'expected a region id like cn-hangzhou');
const NAME = str(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a name of letters, digits, _ . -');
export const OUTCOMES = ['passed', 'failed', 'gave_up', 'vanished'] as const;
const LANGUAGE = z.enum(['en', 'zh']);
const HTTP_URL = str(/^https?:\/\/[^\s/?#]+[^\s]*$/, 'expected an http(s) URL');

const mentionsSchema = z.strictObject({
  onFailureOnly: z._default(z.boolean(), true),
  mobiles: z._default(z.array(str(/^\+?[0-9-]{5,20}$/, 'expected a phone number')), []),
  userIds: z._default(z.array(nonEmpty(128)), []),
  /** Slack member ids (`U…`), `here`/`channel`/`everyone`, or `subteam^S…` for user groups. */
  slackIds: z._default(
    z.array(
      str(
        /^(?:[UW][A-Z0-9]{2,}|here|channel|everyone|subteam\^S[A-Z0-9]+)$/,
        'expected a Slack member id (U…), here, channel, everyone or subteam^S…',
      ),
    ),
    [],
  ),
});

const channelCommon = {
  url: secretRefSchema,
  language: z._default(LANGUAGE, 'en'),
  titleTemplate: z.optional(z.string().check(z.maxLength(500))),
  bodyTemplate: z.optional(z.string().check(z.maxLength(10_000))),
  mentions: z.optional(mentionsSchema),
  timeout: z._default(durationSchema, 10_000),
};
const keyword = z.optional(nonEmpty(64));

const channelSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('dingtalk'),
    ...channelCommon,
    secret: z.optional(secretRefSchema),
    keyword,
    /** `markdown` supports @mentions; `actionCard` adds a console button but cannot @ anyone. */
    format: z._default(z.enum(['markdown', 'actionCard']), 'markdown'),
  }),
  z.strictObject({ type: z.literal('slack'), ...channelCommon }),
  z.strictObject({
    type: z.literal('feishu'),
    ...channelCommon,
    secret: z.optional(secretRefSchema),
    keyword,
  }),
  z.strictObject({ type: z.literal('wecom'), ...channelCommon }),
  z.strictObject({ type: z.literal('webhook'), ...channelCommon, secret: secretRefSchema }),
]);

const routeSchema = z.strictObject({
  channels: z.array(NAME).check(z.minLength(1)),
  /** Which outcomes this route hears about; default: all of them. */
  outcomes: z._default(z.array(z.enum(OUTCOMES)).check(z.minLength(1)), [...OUTCOMES]),
  /** Only these clusters (ids); default: any. */
  clusters: z.optional(z.array(nonEmpty())),
  /** Only these check types; default: any. */
  types: z.optional(z.array(nonEmpty())),
  /** People to mention on this route's channels, in addition to each channel's own mentions. */
  mentions: z.optional(mentionsSchema),
});

const storeSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('sqlite'),
    path: z._default(nonEmpty(), 'checkwatch.sqlite'),
  }),
  z.strictObject({
    type: z.literal('tablestore'),
    endpoint: HTTP_URL,
    instance: str(/^[A-Za-z][A-Za-z0-9-]{2,15}$/, 'expected a Tablestore instance name'),
    tablePrefix: z._default(
      str(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/, 'expected letters, digits and _'),
      'checkwatch_',
    ),
    /** Create missing tables on first use (functions); otherwise `checkwatch init` must have run. */
    createTables: z._default(z.boolean(), false),
  }),
]);

const dispatchSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('inline') }),
  z.strictObject({
    type: z.literal('fc'),
    accountId: str(/^\d{6,20}$/, 'expected an Alibaba Cloud account id (digits)'),
    region: z.optional(REGION),
    endpoint: z.optional(HTTP_URL),
    internal: z._default(z.boolean(), true),
    notifierFunction: NAME,
    pollerFunction: NAME,
    qualifier: z._default(str(/^[A-Za-z0-9_.-]{1,128}$/, 'expected a version or alias name'), 'LATEST'),
  }),
]);

export const configSchema = z.strictObject({
  /** The default region for clusters that do not name their own. */
  region: z._default(REGION, 'cn-hangzhou'),
  ack: z.prefault(
    z.strictObject({
      /** Explicit endpoint (VPC endpoint, simulator); otherwise derived from each cluster's region. */
      endpoint: z.optional(nonEmpty()),
      vpc: z._default(z.boolean(), false),
      concurrency: z._default(int(1, 64), 8),
      timeout: z._default(durationSchema, 15_000),
    }),
    {},
  ),
  store: z.prefault(storeSchema, { type: 'sqlite' }),
  dispatch: z.prefault(dispatchSchema, { type: 'inline' }),
  channels: z._default(z.record(NAME, channelSchema), {}),
  routes: z._default(z.record(NAME, routeSchema), {}),
  /** Display names and regions of known clusters. */
  clusters: z._default(
    z.record(
      nonEmpty(),
      z.strictObject({ name: z.optional(z.string().check(z.maxLength(128))), region: z.optional(REGION) }),
    ),
    {},
  ),
  defaults: z.prefault(
    z.strictObject({
      /** Routes applied to a watch that names none. */
      routes: z._default(z.array(NAME), []),
      maxAge: z._default(durationSchema, DEFAULT_MAX_AGE_MS),
      /** Time after which a finished check whose delivery is not confirmed is dispatched again. */
      redispatchAfter: z._default(durationSchema, 120_000),
      /** How long finished checks are kept (history TTL). */
      retention: z._default(durationSchema, 30 * 86_400_000),
      shards: z._default(int(1, 256), 16),
    }),
    {},
  ),
  api: z.prefault(
    z.strictObject({
      tokens: z._default(z.array(secretRefSchema), []),
      maxBodyBytes: z._default(int(1_024, 1_048_576), 65_536),
    }),
    {},
  ),
});

type RawConfig = z.output<typeof configSchema>;
/** Literal strings (types, enums) stay literal; a secret reference becomes its resolved string. */
type Resolve<T> = T extends string
  ? T
  : T extends SecretRef
    ? string
    : T extends object
      ? { [K in keyof T]: Resolve<T[K]> }
      : T;
/** The validated configuration with every secret reference resolved to its value. */
export type Config = Resolve<RawConfig>;
export type ChannelSettings = Config['channels'][string];
export type RouteSettings = Config['routes'][string];

/** Environment variables that override single settings (Function Compute passes strings only). */
const ENV_OVERRIDES: ReadonlyArray<{
  name: string;
  path: readonly string[];
  kind: 'string' | 'int' | 'bool' | 'list';
}> = [
  { name: 'CHECKWATCH_REGION', path: ['region'], kind: 'string' },
  { name: 'CHECKWATCH_ACK_ENDPOINT', path: ['ack', 'endpoint'], kind: 'string' },
  { name: 'CHECKWATCH_ACK_VPC', path: ['ack', 'vpc'], kind: 'bool' },
  { name: 'CHECKWATCH_ACK_CONCURRENCY', path: ['ack', 'concurrency'], kind: 'int' },
  { name: 'CHECKWATCH_STORE', path: ['store', 'type'], kind: 'string' },
  { name: 'CHECKWATCH_SQLITE_PATH', path: ['store', 'path'], kind: 'string' },
  { name: 'CHECKWATCH_OTS_ENDPOINT', path: ['store', 'endpoint'], kind: 'string' },
  { name: 'CHECKWATCH_OTS_INSTANCE', path: ['store', 'instance'], kind: 'string' },
  { name: 'CHECKWATCH_OTS_TABLE_PREFIX', path: ['store', 'tablePrefix'], kind: 'string' },
  { name: 'CHECKWATCH_OTS_CREATE_TABLES', path: ['store', 'createTables'], kind: 'bool' },
  { name: 'CHECKWATCH_DISPATCH', path: ['dispatch', 'type'], kind: 'string' },
  { name: 'CHECKWATCH_FC_ACCOUNT_ID', path: ['dispatch', 'accountId'], kind: 'string' },
  { name: 'CHECKWATCH_FC_ENDPOINT', path: ['dispatch', 'endpoint'], kind: 'string' },
  { name: 'CHECKWATCH_FC_INTERNAL', path: ['dispatch', 'internal'], kind: 'bool' },
  { name: 'CHECKWATCH_NOTIFIER_FUNCTION', path: ['dispatch', 'notifierFunction'], kind: 'string' },
  { name: 'CHECKWATCH_POLLER_FUNCTION', path: ['dispatch', 'pollerFunction'], kind: 'string' },
  { name: 'CHECKWATCH_FC_QUALIFIER', path: ['dispatch', 'qualifier'], kind: 'string' },
  { name: 'CHECKWATCH_SHARDS', path: ['defaults', 'shards'], kind: 'int' },
  { name: 'CHECKWATCH_MAX_AGE', path: ['defaults', 'maxAge'], kind: 'string' },
  { name: 'CHECKWATCH_DEFAULT_ROUTES', path: ['defaults', 'routes'], kind: 'list' },
  { name: 'CHECKWATCH_API_TOKEN_ENVS', path: ['api', 'tokens'], kind: 'list' },
];

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadedConfig {
  readonly config: Config;
  /** Knows every resolved secret: give it to the logger. */
  readonly redactor: Redactor;
  /** Dotted paths of the settings that hold secrets (for masking). */
  readonly secretPaths: readonly string[];
  /** Where the configuration came from, for `config check`. */
  readonly sources: readonly string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isRecord(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

function convertEnv(name: string, raw: string, kind: 'string' | 'int' | 'bool' | 'list'): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^\d+$/.test(raw.trim()))
        throw new ConfigError(`${name}: expected a whole number, got "${raw}"`, { path: name });
      return Number(raw.trim());
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
      throw new ConfigError(`${name}: expected true or false, got "${raw}"`, { path: name });
    }
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    default: {
      const unreachable: never = kind;
      return unreachable;
    }
  }
}

/** Parses YAML or JSON text (JSON is YAML) into a plain object. */
export function parseConfigText(text: string, origin: string): Record<string, unknown> {
  let doc: unknown;
  try {
    // Plain YAML 1.2 core schema: no custom tags, so a config file cannot construct anything but data.
    doc = parseYaml(text, { schema: 'core', maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(`${origin}: not valid YAML or JSON: ${reason ?? ''}`, { path: origin, cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (!isRecord(doc))
    throw new ConfigError(`${origin}: expected a mapping at the top level`, { path: origin });
  return doc;
}

/** What a failed check expected, in words (zod/mini carries no message locale). */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.message !== '' && issue.message !== 'Invalid input') return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'int' ? 'a whole number' : issue.expected}`;
    case 'too_small':
      return issue.origin === 'number'
        ? `must be at least ${String(issue.minimum)}`
        : `must have at least ${String(issue.minimum)} ${issue.origin === 'string' ? 'character(s)' : 'item(s)'}`;
    case 'too_big':
      return issue.origin === 'number'
        ? `must be at most ${String(issue.maximum)}`
        : `must have at most ${String(issue.maximum)} ${issue.origin === 'string' ? 'characters' : 'items'}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `expected ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'custom':
    case 'invalid_element':
    case 'invalid_key':
    case 'invalid_union':
    case 'unrecognized_keys':
      return 'invalid value';
  }
}

function formatIssue(issue: z.core.$ZodIssue, origin: string): string {
  const path = issue.path.map(String).join('.');
  const where = path === '' ? origin : path;
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return `${where}: unknown type; expected one of the documented types`;
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Say what each alternative wanted: a specific complaint beats "expected string".
    const inner = issue.errors.flat();
    const specific = inner.find((i) => i.code !== 'invalid_type' && i.code !== 'unrecognized_keys');
    if (specific !== undefined) return `${where}: ${issueMessage(specific)}`;
    const expected = [...new Set(inner.flatMap((i) => (i.code === 'invalid_type' ? [i.expected] : [])))];
    if (expected.length > 0) return `${where}: expected ${expected.join(' or ')}`;
  }
  return `${where}: ${issueMessage(issue)}`;
}

/**
 * Loads and validates the configuration from (in order, later wins): a file (`file` or
 * `CHECKWATCH_CONFIG_FILE`), inline text in `CHECKWATCH_CONFIG`, then single-setting variables.
 */
export function loadConfig(options: { file?: string | undefined; env: Env }): LoadedConfig {
  const { env } = options;
  const sources: string[] = [];
  let doc: Record<string, unknown> = {};
  const file = options.file ?? env.CHECKWATCH_CONFIG_FILE;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${file}: cannot read the configuration file`, { path: file, cause: err });
    }
    doc = parseConfigText(text, file);
    sources.push(file);
  }
  const inline = env.CHECKWATCH_CONFIG;
  if (inline !== undefined && inline.trim() !== '') {
    doc = { ...doc, ...parseConfigText(inline, 'CHECKWATCH_CONFIG') };
    sources.push('CHECKWATCH_CONFIG');
  }
  for (const o of ENV_OVERRIDES) {
    const raw = env[o.name];
    if (raw === undefined) continue;
    let value = convertEnv(o.name, raw, o.kind);
    if (o.name === 'CHECKWATCH_API_TOKEN_ENVS') value = (value as string[]).map((n) => ({ env: n }));
    setPath(doc, o.path, value);
    sources.push(o.name);
  }
  // A single setting given by env (CHECKWATCH_SQLITE_PATH alone, say) implies its type.
  if (isRecord(doc.store) && doc.store.type === undefined) {
    doc.store = {
      type: 'endpoint' in doc.store || 'instance' in doc.store ? 'tablestore' : 'sqlite',
      ...doc.store,
    };
  }
  if (isRecord(doc.dispatch) && doc.dispatch.type === undefined) {
    doc.dispatch = { type: 'fc', ...doc.dispatch };
  }
  // Switching the store or dispatch type by env must not inherit the other type's keys from the file.
  if (env.CHECKWATCH_STORE !== undefined && isRecord(doc.store)) doc.store = pickFor(doc.store, STORE_KEYS);
  if (env.CHECKWATCH_DISPATCH !== undefined && isRecord(doc.dispatch))
    doc.dispatch = pickFor(doc.dispatch, DISPATCH_KEYS);

  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) {
    const origin = sources.join(' + ') || 'configuration';
    const lines = parsed.error.issues.slice(0, 10).map((i) => formatIssue(i, origin));
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`, {
      path: lines[0]?.split(':')[0] ?? origin,
    });
  }
  const redactor = new Redactor();
  const secretPaths: string[] = [];
  const resolved = resolveSecrets(parsed.data, [], env, redactor, secretPaths) as Config;
  checkReferences(resolved);
  return { config: resolved, redactor, secretPaths, sources };
}

const STORE_KEYS: Record<string, readonly string[]> = {
  sqlite: ['type', 'path'],
  tablestore: ['type', 'endpoint', 'instance', 'tablePrefix', 'createTables'],
};
const DISPATCH_KEYS: Record<string, readonly string[]> = {
  inline: ['type'],
  fc: [
    'type',
    'accountId',
    'region',
    'endpoint',
    'internal',
    'notifierFunction',
    'pollerFunction',
    'qualifier',
  ],
};
function pickFor(
  obj: Record<string, unknown>,
  keysByType: Record<string, readonly string[]>,
): Record<string, unknown> {
  const keys = keysByType[String(obj.type)];
  if (keys === undefined) return obj;
  return Object.fromEntries(Object.entries(obj).filter(([k]) => keys.includes(k)));
}

/** Fields (by key name) whose values are secrets even when they are plain strings in the schema. */
const SECRET_FIELDS = new Set(['url', 'secret', 'tokens']);

function resolveSecrets(
  value: unknown,
  path: string[],
  env: Env,
  redactor: Redactor,
  secretPaths: string[],
): unknown {
  const key = path[path.length - 1] ?? '';
  const parentKey = path[path.length - 2] ?? '';
  const isSecretField = SECRET_FIELDS.has(key) || parentKey === 'tokens';
  if (isSecretField && (typeof value === 'string' || (isRecord(value) && typeof value.env === 'string'))) {
    const where = path.join('.');
    let secret: string;
    if (typeof value === 'string') secret = value;
    else {
      const name = String(value.env);
      const fromEnv = env[name];
      if (fromEnv === undefined || fromEnv === '') {
        throw new ConfigError(`${where}: environment variable ${name} is not set`, { path: where });
      }
      secret = fromEnv;
    }
    redactor.add(secret);
    secretPaths.push(where);
    return secret;
  }
  if (Array.isArray(value))
    return value.map((v, i) => resolveSecrets(v, [...path, String(i)], env, redactor, secretPaths));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = resolveSecrets(v, [...path, k], env, redactor, secretPaths);
    return out;
  }
  return value;
}

/**
 * Cross-references the schema cannot express: routes name configured channels, defaults name routes,
 * templates use only documented variables (a typo would otherwise render as empty text).
 */
function checkReferences(config: Config): void {
  for (const [name, channel] of Object.entries(config.channels)) {
    for (const field of ['titleTemplate', 'bodyTemplate'] as const) {
      const template = channel[field];
      const unknown = template === undefined ? [] : validateTemplate(template);
      if (unknown.length > 0) {
        const path = `channels.${name}.${field}`;
        throw new ConfigError(
          `${path}: unknown template variable${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `{{${u}}}`).join(', ')} (see docs/CONFIGURATION.md for the variables)`,
          { path },
        );
      }
    }
  }
  for (const [name, route] of Object.entries(config.routes)) {
    route.channels.forEach((ch, i) => {
      if (!(ch in config.channels)) {
        throw new ConfigError(`routes.${name}.channels.${i}: no channel named "${ch}" is configured`, {
          path: `routes.${name}.channels.${i}`,
        });
      }
    });
  }
  config.defaults.routes.forEach((r, i) => {
    if (!(r in config.routes)) {
      throw new ConfigError(`defaults.routes.${i}: no route named "${r}" is configured`, {
        path: `defaults.routes.${i}`,
      });
    }
  });
}

/** The configuration with every secret replaced by `***` (for `checkwatch config check`). */
export function maskedConfig(loaded: LoadedConfig): unknown {
  const mask = (value: unknown, path: string[]): unknown => {
    if (loaded.secretPaths.includes(path.join('.'))) return '***';
    if (Array.isArray(value)) return value.map((v, i) => mask(v, [...path, String(i)]));
    if (isRecord(value))
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, [...path, k])]));
    return value;
  };
  return mask(loaded.config, []);
}
