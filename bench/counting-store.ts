/**
 * A Store wrapper that counts port calls by method. The Tablestore adapter's `onRequest` counts wire
 * requests; SQLite has no wire, so port calls are the comparable figure for it.
 */
import type { Store } from '../lib/store/store';

/** Wraps `inner`; `calls` fills in as methods are called. */
export function countingStore(inner: Store): { store: Store; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'close') return value;
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]): unknown => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        return fn.apply(target, args);
      };
    },
  });
  return { store, calls };
}
