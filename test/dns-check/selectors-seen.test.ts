// The DKIM selectors `ready` checks in DNS: the ones that passed for the domain's organisational
// domain in the window's stored rows, each once, in code-unit order (the same under any locale); a key text that only
// another count map (SPF) holds, or that only ever failed, names none.

import { describe, expect, it } from 'vitest';
import { selectorsSeen } from '../../src/dns-check/readiness.ts';
import { organizationalDomain } from '../../src/reader/alignment.ts';
import { dict } from '../../src/store/dict.ts';
import { decodeSummary, encodeSummary, type DaySummary, type SummarySource } from '../../src/store/summary.ts';
import { summaryHead } from '../insight/summary-head.ts';

const DOMAIN = 'example.com';

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const DKIM = [
  'example.com s1 pass',
  'example.com s2 fail',
  'mail.example.com m1 pass',
  'example.com - none',
  'esp.example k1 pass',
  'EXAMPLE.COM Up1 pass',
  'example.com bad/selector pass',
  'example.com s-3 pass',
  'example.com s_3 pass',
  'example.com a.b pass',
];
// SPF texts, some reading like DKIM keys: the SPF map never names a selector
const SPF = ['example.com pass', 'example.com spfonly pass', 'relay.example softfail'];

function source(ip: string, dkim: string[], spf: string[]): SummarySource {
  const map = (keys: string[]) => {
    const counts = dict<number>();
    for (const key of keys) counts[key] = 1;
    return counts;
  };
  return {
    ip,
    messages: 1,
    dmarcPass: 0,
    spfPass: 0,
    dkimPass: 0,
    spfAligned: 0,
    dkimAligned: 0,
    spfUnalignedPass: 0,
    dkimUnalignedPass: 0,
    dispositions: map(['none']),
    reasons: map([]),
    headerFrom: map([DOMAIN]),
    spf: map(spf),
    dkim: map(dkim),
    firstIngestedAt: '2024-05-01T12:00:00.000Z',
  };
}

function randomDays(seed: number): DaySummary[] {
  const next = rng(seed);
  const pick = (pool: string[]) => pool.filter(() => next() < 0.2);
  return Array.from({ length: 12 }, (_, d) => {
    const date = `2024-05-${String(d + 1).padStart(2, '0')}`;
    const domain = d % 5 === 4 ? 'other.example' : DOMAIN;
    const sources = Array.from({ length: 1 + Math.floor(next() * 30) }, (_, row) =>
      source(`192.0.2.${row}`, pick(DKIM), pick(SPF)),
    );
    return { domain, date, reports: [summaryHead(domain, date, `${date}T12:00:00.000Z`)], sources };
  });
}

/** The reference: every DKIM count-map key of every row of the domain's days, in row order. */
function reference(days: readonly DaySummary[], domain: string): Array<{ selector: string; domain: string }> {
  const seen = new Map<string, { selector: string; domain: string }>();
  for (const day of days) {
    if (day.domain !== domain) continue;
    for (const row of day.sources)
      for (const key of Object.keys(row.dkim)) {
        const [signer, selector, result] = key.split(' ');
        if (!signer || !selector || selector === '-' || result !== 'pass') continue;
        if (organizationalDomain(signer) !== organizationalDomain(domain)) continue;
        if (!/^[a-z0-9._-]{1,63}$/i.test(selector)) continue;
        if (!seen.has(`${selector} ${signer}`))
          seen.set(`${selector} ${signer}`, { selector, domain: signer.toLowerCase() });
      }
  }
  return [...seen.values()].sort((a, b) => (a.selector < b.selector ? -1 : a.selector > b.selector ? 1 : 0));
}

const stored = (days: readonly DaySummary[]) => days.map((day) => decodeSummary(encodeSummary(day)));

describe('selectorsSeen', () => {
  it('names the passing selectors of the organisational domain, from the DKIM map only', () => {
    const days: DaySummary[] = [
      {
        domain: DOMAIN,
        date: '2024-05-01',
        reports: [summaryHead(DOMAIN, '2024-05-01', '2024-05-01T12:00:00.000Z')],
        sources: [
          source('192.0.2.1', ['example.com s2 fail', 'esp.example k1 pass'], ['example.com spfonly pass']),
          source('192.0.2.2', ['mail.example.com m1 pass', 'example.com - none'], []),
        ],
      },
      {
        domain: DOMAIN,
        date: '2024-05-02',
        reports: [summaryHead(DOMAIN, '2024-05-02', '2024-05-02T12:00:00.000Z')],
        // known only from the second day, and once from a row far down the day
        sources: [
          ...Array.from({ length: 40 }, (_, row) => source(`198.51.100.${row}`, ['example.com s2 fail'], [])),
          source('192.0.2.3', ['example.com s1 pass', 'EXAMPLE.COM Up1 pass'], ['example.com spfonly pass']),
        ],
      },
    ];
    // upper case sorts before lower case in code units
    const expected = [
      { selector: 'Up1', domain: 'example.com' },
      { selector: 'm1', domain: 'mail.example.com' },
      { selector: 's1', domain: 'example.com' },
    ];
    expect(selectorsSeen(stored(days), DOMAIN)).toEqual(expected);
    expect(selectorsSeen(days, DOMAIN)).toEqual(expected);
    expect(selectorsSeen(stored(days), 'other.example')).toEqual([]);
  });

  it('agrees with a pass over every DKIM key of every row', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const days = randomDays(seed);
      expect(selectorsSeen(stored(days), DOMAIN), `seed ${seed}`).toEqual(reference(days, DOMAIN));
      expect(selectorsSeen(stored(days), 'other.example'), `seed ${seed}`).toEqual(reference(days, 'other.example'));
    }
  });
});
