/**
 * A small seeded PRNG (mulberry32): the simulator's faults and generated data are reproducible from a
 * seed, which `Math.random` cannot give. Not for anything secret (credentials use node:crypto).
 */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream from a seed and a label (FNV-1a over the label, mixed with the seed). */
export function deriveRng(seed: number, label: string): Rng {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return mulberry32(h);
}

/** Integer in [min, max]. */
export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789ABCDEF';

export function lowerLetters(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += LOWER.charAt(Math.floor(rng() * LOWER.length));
  return s;
}

/** An uppercase UUID-shaped id, like ACK's request ids (`F04DF81D-…`). */
export function requestIdFrom(rng: Rng): string {
  let s = '';
  for (const len of [8, 4, 4, 4, 12]) {
    if (s !== '') s += '-';
    for (let i = 0; i < len; i++) s += HEX.charAt(Math.floor(rng() * HEX.length));
  }
  return s;
}
