import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { CHECK_ID_PATTERN, CHECK_TYPES, CLUSTER_ID_PATTERN } from '../domain/check';
import { InputError } from '../errors';
import { MAX_ROUTES } from '../store/rules';

/**
 * The field rules of the subscription API, shared by the HTTP layer (snake_case bodies, strict) and the
 * service (camelCase inputs from the CLI's direct mode), so both reject the same values with the same
 * words. Field paths in errors always name the API's JSON fields (`cluster_id`, `routes.1`), whichever
 * door the input came through.
 *
 * zod/mini, not classic zod: the same validation at a fraction of the bundle size and load time, which
 * every Function Compute cold start pays. zod/mini installs no message locale (every default message is
 * "Invalid input"), so parses go through {@link safeParse}, which words issues with zod's own English
 * locale, passed per parse rather than installed globally (lib/config.ts words its issues itself).
 */

const englishMessages = en().localeError;

/**
 * `schema.safeParse(input)` with zod's English messages for issues that carry no message of their own
 * (`expected string, received number`, `Too big: expected string to have <=64 characters`), exactly as
 * classic zod words them.
 */
export function safeParse<T extends z.ZodMiniType>(
  schema: T,
  input: unknown,
): z.core.util.SafeParseResult<z.output<T>> {
  return schema.safeParse(input, { error: englishMessages });
}

/** Keys that must never reach an object we build from input, whatever the schema says. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const clusterIdField = z
  .string()
  .check(
    z.maxLength(64),
    z.regex(CLUSTER_ID_PATTERN, 'expected an ACK cluster id (lowercase letters, digits and -)'),
  );

export const checkIdField = z
  .string()
  .check(z.maxLength(256), z.regex(CHECK_ID_PATTERN, 'expected an ACK check id (letters, digits, . _ -)'));

export const regionField = z
  .string()
  .check(z.maxLength(64), z.regex(/^[a-z]{2,}-[a-z0-9-]+$/, 'expected a region id like cn-hangzhou'));

/** Route names only: a channel URL is never accepted through the API (channels live in configuration). */
export const routeNameField = z
  .string()
  .check(
    z.maxLength(64),
    z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a route name (letters, digits, _ . -)'),
  );

export const routesField = z.array(routeNameField).check(z.maxLength(MAX_ROUTES));

export const checkTypeField = z.enum(CHECK_TYPES, {
  error: `expected one of ${CHECK_TYPES.join(', ')}`,
});

/** A node-pool id (`np…`) for NodePoolUpgrade. */
export const targetField = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(128),
    z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a node-pool id (letters, digits, _ . -)'),
  );

export const MAX_OPTIONS = 16;

/** RunClusterCheck `options` (`next_version`, …): a small map of short strings. */
export const optionsField = z
  .record(
    z.string().check(
      z.regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'expected an option name (letters, digits, _ . -)'),
      z.refine((k) => !FORBIDDEN_KEYS.has(k), 'reserved name'),
    ),
    z.string().check(z.maxLength(256)),
  )
  .check(z.refine((o) => Object.keys(o).length <= MAX_OPTIONS, `at most ${MAX_OPTIONS} options`));

/** Status filter of `GET /v1/checks`: an outcome, `pending`/`history`, or a verbatim ACK status. */
export const statusFilterField = z
  .string()
  .check(
    z.maxLength(64),
    z.regex(/^[A-Za-z][A-Za-z0-9_ -]*$/, 'expected an outcome, pending, history or an ACK status'),
  );

export const limitField = z.number().check(z.int(), z.gte(1), z.lte(1000));

/** One field-level error, as `details.fields` of an `INVALID_INPUT` error carries it. */
export interface FieldError {
  /** Dotted path of the JSON field (`routes.1`); '' for the body itself. */
  readonly path: string;
  readonly message: string;
}

const CAMEL_TO_WIRE: Readonly<Record<string, string>> = {
  clusterId: 'cluster_id',
  checkId: 'check_id',
};

/** Zod issues as field errors, paths in the API's snake_case names. */
export function fieldErrors(error: z.core.$ZodError): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map((p) => {
      const s = String(p);
      return Object.hasOwn(CAMEL_TO_WIRE, s) ? (CAMEL_TO_WIRE[s] ?? s) : s;
    });
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: [...base, key].join('.'), message: 'unknown field' });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // "Invalid key in record" says nothing; the key's own issue says what is wrong with it.
      const inner = issue.issues.map((i) => i.message).join('; ');
      out.push({ path: base.join('.'), message: `invalid name: ${inner}` });
      continue;
    }
    out.push({ path: base.join('.'), message: issue.message.replace(/^Invalid input: /, '') });
  }
  return out.slice(0, 20);
}

/**
 * Paths of `__proto__` keys anywhere in a parsed JSON value. JSON.parse makes them harmless own
 * properties, but no schema should have to think about them: they are refused wherever they appear.
 */
export function protoKeyPaths(value: unknown): FieldError[] {
  const out: FieldError[] = [];
  const stack: { v: unknown; path: string[] }[] = [{ v: value, path: [] }];
  // Iterative, so a deeply nested body cannot exhaust the call stack.
  while (stack.length > 0 && out.length < 20) {
    const item = stack.pop();
    if (item === undefined || item.v === null || typeof item.v !== 'object') continue;
    for (const [k, v] of Object.entries(item.v)) {
      const path = [...item.path, k];
      if (k === '__proto__') out.push({ path: path.join('.'), message: 'unknown field' });
      else if (v !== null && typeof v === 'object' && path.length < 64) stack.push({ v, path });
    }
  }
  return out;
}

/** The one validation error shape: `INVALID_INPUT` with `details.fields`. */
export function invalidInput(message: string, fields: readonly FieldError[]): InputError {
  const first = fields[0];
  const summary =
    first === undefined
      ? message
      : `${message}: ${first.path === '' ? '' : `${first.path}: `}${first.message}`;
  return new InputError(summary, { details: { fields: [...fields] } });
}

/** Parses `input` with `schema`, or throws {@link invalidInput} with every field error. */
export function parseInput<T extends z.ZodMiniType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = safeParse(schema, input);
  if (!parsed.success) throw invalidInput(`invalid ${what}`, fieldErrors(parsed.error));
  return parsed.data;
}
