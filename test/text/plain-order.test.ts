import { describe, expect, it } from 'vitest';
import { rootCollationApplies, sortByLocaleText } from '../../src/text/plain-order.ts';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const byLocale = (names: string[]) => [...names].sort((a, b) => a.localeCompare(b));

describe('sorting names as localeCompare does', () => {
  it('knows which locale settings have the root collation', () => {
    expect(rootCollationApplies({})).toBe(true);
    expect(rootCollationApplies({ LANG: 'C.UTF-8' })).toBe(true);
    expect(rootCollationApplies({ LANG: 'en_US.UTF-8', LC_ALL: 'POSIX' })).toBe(true);
    expect(rootCollationApplies({ LANG: '' })).toBe(true);
    expect(rootCollationApplies({ LANG: 'et_EE.UTF-8' })).toBe(false);
    expect(rootCollationApplies({ LANG: 'C.UTF-8', LC_MESSAGES: 'sv_SE.UTF-8' })).toBe(false);
    expect(rootCollationApplies({ LANG: 'en_US', LANGUAGE: 'de' })).toBe(false);
    expect(rootCollationApplies({ LC_ALL: 'en_US@collation=phonebook' })).toBe(false);
  });

  it('gives the order of localeCompare for selector-like names', () => {
    // the test runs in an English or C locale, where the plain order is taken
    expect(rootCollationApplies()).toBe(true);
    const next = random(3);
    const characters = '_-.0129abmyz';
    for (let round = 0; round < 3000; round++) {
      const names = Array.from({ length: 2 + Math.floor(next() * 6) }, () =>
        Array.from(
          { length: 1 + Math.floor(next() * 6) },
          () => characters[Math.floor(next() * characters.length)],
        ).join(''),
      );
      expect(sortByLocaleText([...names], (name) => name)).toEqual(byLocale(names));
    }
    expect(
      sortByLocaleText(['s2', 'google', 'selector1', 'k1', '20230601', 'a-b', 'a_b', 'a.b', 'ab'], (n) => n),
    ).toEqual(byLocale(['s2', 'google', 'selector1', 'k1', '20230601', 'a-b', 'a_b', 'a.b', 'ab']));
  });

  it('leaves names with other characters to localeCompare', () => {
    const names = ['b', 'Ab', 'aa', 'é', 'B1'];
    expect(sortByLocaleText([...names], (name) => name)).toEqual(byLocale(names));
  });
});
