// A small seeded PRNG so every generated report, mail and scenario is reproducible from its seed.
// sfc32 seeded through splitmix32: fast, good enough statistically, and no Math.random anywhere.

import { fnv1a32 } from '../text/fnv1a.ts';

export interface Rng {
  /** uniform float in [0, 1) */
  next(): number;
  /** integer in [min, max], both included */
  int(min: number, max: number): number;
  /** true with probability p */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** pick by weight: [[item, weight], ...] */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
  /** a fresh generator derived from this one and a label, so adding draws elsewhere does not shift it */
  fork(label: string | number): Rng;
  /** lower-case hex string of n characters */
  hex(n: number): string;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a: turns string seeds and labels into 32-bit numbers. */
export const hash32 = fnv1a32;

export function createRng(seed: number | string): Rng {
  const seedNumber = typeof seed === 'number' ? seed : hash32(seed);
  const init = splitmix32(seedNumber);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const nextU32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  // discard the first outputs: sfc32 mixes its state during them
  for (let i = 0; i < 12; i++) nextU32();

  const rng: Rng = {
    next: () => nextU32() / 4294967296,
    int: (min, max) => min + Math.floor(rng.next() * (max - min + 1)),
    chance: (p) => rng.next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(rng.next() * items.length)] as (typeof items)[number];
    },
    weighted: (items) => {
      const total = items.reduce((sum, [, w]) => sum + w, 0);
      let roll = rng.next() * total;
      for (const [item, weight] of items) {
        roll -= weight;
        if (roll < 0) return item;
      }
      const last = items[items.length - 1];
      if (!last) throw new Error('weighted pick from an empty list');
      return last[0];
    },
    fork: (label) => createRng(hash32(`${seedNumber}:${label}`)),
    hex: (n) => {
      let out = '';
      while (out.length < n) out += nextU32().toString(16).padStart(8, '0');
      return out.slice(0, n);
    },
  };
  return rng;
}
