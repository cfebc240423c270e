// The flat group table of the window queries: its groups, figures and failure hints equal what
// merging the rows into SourceStats and asking explainFailures gives, for summaries as read from the
// store and as computed from day documents; stored rows that are not well-formed are skipped, the
// same way by the table and by the decoded rows.

import { describe, expect, it } from 'vitest';
import type { SourceStat } from '../../src/store/types.ts';
import {
  decodeSummary,
  encodeSummary,
  summaryRows,
  type DaySummary,
  type StoredDaySummary,
  type SummarySource,
} from '../../src/store/summary.ts';
import { dict } from '../../src/store/dict.ts';
import { summaryHead } from './summary-head.ts';
import {
  bareIdentity,
  buildGroupTable,
  FailureHints,
  groupStat,
  groupTopIps,
  ipCount,
} from '../../src/insight/group-table.ts';
import { classifyWindow, IpClassView, ipClasses } from '../../src/insight/classify.ts';
import { explainFailures } from '../../src/insight/hints.ts';
import { markLookup } from '../../src/insight/marks.ts';
import { DEFAULT_THRESHOLDS } from '../../src/insight/readiness.ts';
import { addStat, emptyStat } from '../../src/insight/stats.ts';
import type { SenderIdentity } from '../../src/insight/types.ts';

const DOMAIN = 'example.com';
const WINDOW = { from: '2024-05-01', to: '2024-05-30' };

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOLS = {
  dispositions: ['none', 'quarantine', 'reject'],
  reasons: ['forwarded', 'trusted_forwarder', 'mailing_list', 'local_policy'],
  headerFrom: ['example.com', 'mail.example.com', 'other.example'],
  spf: [
    'example.com pass',
    'bounce.esp.example pass',
    'esp.example pass',
    'example.com fail',
    'relay.example softfail',
  ],
  dkim: [
    'example.com s1 pass',
    'example.com s2 fail',
    'esp.example k1 pass',
    'esp.example k2 pass',
    'list.example l1 pass',
    ' x pass',
    'example.com - none',
  ],
} as const;

/** A row with random figures drawn from small key pools (so groups share and merge keys). */
function randomSource(ip: string, next: () => number, ingestedAt: string): SummarySource {
  const messages = 1 + Math.floor(next() * 9);
  const part = () => Math.floor(next() * (messages + 1));
  const counts = (pool: readonly string[]) => {
    const map = dict<number>();
    for (const key of pool) if (next() < 0.35) map[key] = Math.floor(next() * (messages + 1));
    return map;
  };
  return {
    ip,
    messages,
    dmarcPass: next() < 0.4 ? 0 : part(),
    spfPass: part(),
    dkimPass: part(),
    spfAligned: part(),
    dkimAligned: part(),
    spfUnalignedPass: next() < 0.5 ? 0 : part(),
    dkimUnalignedPass: next() < 0.5 ? 0 : part(),
    dispositions: counts(POOLS.dispositions),
    reasons: counts(POOLS.reasons),
    headerFrom: counts(POOLS.headerFrom),
    spf: counts(POOLS.spf),
    dkim: counts(POOLS.dkim),
    firstIngestedAt: ingestedAt,
  };
}

function randomDays(seed: number, days: number, ipsPerDay: number): DaySummary[] {
  const next = rng(seed);
  return Array.from({ length: days }, (_, d) => {
    const date = `2024-05-${String(d + 1).padStart(2, '0')}`;
    const ingestedAt = `${date}T12:00:00.000Z`;
    const ips = new Set<string>();
    while (ips.size < ipsPerDay) ips.add(`192.0.2.${Math.floor(next() * 60)}`);
    const sources = [...ips].sort().map((ip) => randomSource(ip, next, ingestedAt));
    // a row without messages: never part of a group
    if (d === 0) sources[0]!.messages = 0;
    return { domain: DOMAIN, date, reports: [summaryHead(DOMAIN, date, ingestedAt)], sources };
  });
}

/** Identities that put the IPs into a few shared groups, some known forwarders, the rest alone. */
function identitiesOf(days: readonly DaySummary[]): Record<string, SenderIdentity> {
  const identities = dict<SenderIdentity>();
  for (const day of days)
    for (const { ip } of day.sources) {
      const last = Number(ip.split('.')[3]);
      if (last % 4 === 0) continue; // unknown: a group of its own, by IP
      const group = `service-${last % 3}`;
      identities[ip] = {
        ...bareIdentity(ip),
        key: group,
        name: `Service ${last % 3}`,
        by: 'known',
        service: group,
        forwarder: last % 3 === 2,
      };
    }
  return identities;
}

/** The reference: every row of a group merged with addStat. */
function mergedByGroup(
  days: readonly DaySummary[],
  keyOf: (ip: string) => string,
): Map<string, { stat: SourceStat; ips: Map<string, number>; days: Set<string> }> {
  const groups = new Map<string, { stat: SourceStat; ips: Map<string, number>; days: Set<string> }>();
  for (const day of days)
    for (const source of day.sources) {
      if (source.messages <= 0) continue;
      const key = keyOf(source.ip);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { stat: emptyStat(), ips: new Map(), days: new Set() }));
      addStat(group.stat, source);
      group.ips.set(source.ip, (group.ips.get(source.ip) ?? 0) + source.messages);
      group.days.add(day.date);
    }
  return groups;
}

const stored = (days: readonly DaySummary[]) => days.map((day) => decodeSummary(encodeSummary(day)));

describe('the group table', () => {
  for (const [form, toDays] of [
    ['summaries as the store reads them', stored],
    ['summaries computed from day documents', (days: DaySummary[]) => days],
  ] as const) {
    it(`merges every row of a group and gives explainFailures' hint (${form})`, () => {
      for (const seed of [1, 2, 3, 4]) {
        const source = randomDays(seed, 12, 25);
        const identities = identitiesOf(source);
        const table = buildGroupTable(toDays(source), identities, markLookup(null), WINDOW, DOMAIN);
        const reference = mergedByGroup(source, (ip) => identities[ip]?.key ?? ip);
        expect(table.size).toBe(reference.size);
        const hints = new FailureHints(table);
        let failing = 0;
        for (let group = 0; group < table.size; group++) {
          const key = table.keys[group]!;
          const expected = reference.get(key)!;
          const stat = groupStat(table, group);
          const { ip: _ip, ...figures } = stat;
          const { ip: _refIp, ...expectedFigures } = expected.stat;
          expect(figures).toEqual(expectedFigures);
          expect(table.activeDays[group]).toBe(expected.days.size);
          expect(ipCount(table, group)).toBe(expected.ips.size);
          const top = [...expected.ips.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
          expect(groupTopIps(table, group)).toEqual(top.slice(0, 10).map(([ip]) => ip));
          const context = { forwarder: table.identities[group]!.forwarder, domain: DOMAIN };
          const hint = explainFailures({ ...expected.stat, ip: top[0]![0] }, context);
          expect(hints.hint(group, context)).toEqual(hint);
          if (hint) failing += 1;
        }
        expect(failing).toBeGreaterThan(0);
      }
    });
  }

  it('built from some rows of the stored days (read in place), equals the table of days holding only those rows', () => {
    for (const seed of [5, 6]) {
      const source = randomDays(seed, 12, 25);
      const identities = identitiesOf(source);
      const days = stored(source);
      const next = rng(seed + 100);
      // every third day left out, the others cut to some of their rows (the row without messages included)
      const only = new Map<StoredDaySummary, number[]>();
      const cut: DaySummary[] = [];
      source.forEach((day, d) => {
        if (d % 3 === 1) return;
        const rows = day.sources.map((_, row) => row).filter((row) => row === 0 || next() < 0.4);
        only.set(summaryRows(days[d]!), rows);
        cut.push({ ...day, sources: rows.map((row) => day.sources[row]!) });
      });
      const table = buildGroupTable(days, identities, markLookup(null), WINDOW, DOMAIN, only);
      const expected = buildGroupTable(stored(cut), identities, markLookup(null), WINDOW, DOMAIN);
      expect(table.size).toBe(expected.size);
      expect(table.size).toBeLessThan(buildGroupTable(days, identities, markLookup(null), WINDOW, DOMAIN).size);
      expect([...table.daysWithReports]).toEqual([...expected.daysWithReports]);
      expect(table.dates).toEqual(expected.dates);
      expect(table.keys).toEqual(expected.keys);
      expect(table.messages).toBe(expected.messages);
      for (let group = 0; group < table.size; group++) {
        expect(groupStat(table, group)).toEqual(groupStat(expected, group));
        expect(table.activeDays[group]).toBe(expected.activeDays[group]);
        expect(groupTopIps(table, group)).toEqual(groupTopIps(expected, group));
      }
    }
  });

  it('gives the same hint when one group is asked twice in a row (the sums start afresh)', () => {
    const source = randomDays(3, 12, 25);
    const identities = identitiesOf(source);
    const table = buildGroupTable(stored(source), identities, markLookup(null), WINDOW, DOMAIN);
    const hints = new FailureHints(table);
    const reference = mergedByGroup(source, (ip) => identities[ip]?.key ?? ip);
    let unaligned = 0;
    for (let group = 0; group < table.size; group++) {
      const context = { forwarder: table.identities[group]!.forwarder, domain: DOMAIN };
      const top = groupTopIps(table, group, 1)[0]!;
      const expected = explainFailures({ ...reference.get(table.keys[group]!)!.stat, ip: top }, context);
      expect(hints.hint(group, context)).toEqual(expected);
      expect(hints.hint(group, context)).toEqual(expected);
      if (expected?.code === 'dkim-unaligned' || expected?.code === 'spf-unaligned') unaligned += 1;
    }
    expect(unaligned).toBeGreaterThan(0);
  });

  it('splits an IP with its own mark out of its group and counts active days per group', () => {
    const days = randomDays(9, 3, 1).map((day, d) => ({
      ...day,
      sources: [
        { ...day.sources[0]!, ip: '192.0.2.1', messages: 3 },
        ...(d > 0 ? [{ ...day.sources[0]!, ip: '192.0.2.2', messages: 2 }] : []),
      ],
    }));
    const identity = (ip: string): SenderIdentity => ({
      ...bareIdentity(ip),
      key: 'relay.example',
      name: 'relay.example',
      by: 'ptr',
      ptr: `mx.${ip}.relay.example`,
      asn: 64500,
    });
    const identities = { '192.0.2.1': identity('192.0.2.1'), '192.0.2.2': identity('192.0.2.2') };
    const marks = markLookup({ m: { subject: '192.0.2.2', verdict: 'mine', at: '2024-05-01T00:00:00Z' } } as never);
    const table = buildGroupTable(days, identities, marks, WINDOW, DOMAIN);
    expect(table.keys).toEqual(['relay.example', '192.0.2.2']);
    expect([...table.activeDays.subarray(0, table.size)]).toEqual([3, 2]);
    expect(table.marks).toEqual([null, 'mine']);
    // the split IP keeps what was known of it, under its own name
    expect(table.identities[1]).toMatchObject({ key: '192.0.2.2', name: '192.0.2.2', by: 'ip', asn: 64500 });
    expect(table.identities[1]!.ptr).toBe('mx.192.0.2.2.relay.example');
  });

  it('skips stored pair codes and counts that are none, the same way as the decoded rows', () => {
    const summary = randomDays(5, 1, 3)[0]!;
    const encoded = encodeSummary(summary);
    const keys = encoded.keys.length;
    // the first row's pairs: a key twice, a negative, a fractional, a text and an out-of-range code
    const extra = [2, 5, 2, 1, -3, 4, 2.5, 9, 'x', 1, keys * 5 + 1, 7] as never as number[];
    const firstPairs = encoded.counts[9]! * 2;
    const counts = [...encoded.counts];
    counts[9] = counts[9]! + extra.length / 2;
    counts[10 + 1] = 'many' as never; // the second row's dmarcPass
    const hostile: StoredDaySummary = {
      ...encoded,
      counts,
      pairs: [...encoded.pairs.slice(0, firstPairs), ...extra, ...encoded.pairs.slice(firstPairs)],
      // a row past the counts and pairs there are
      ips: [...encoded.ips, '192.0.2.250'],
    };
    const decoded = decodeSummary(hostile);
    expect(() => decoded.sources).not.toThrow();
    expect(decoded.sources).toHaveLength(summary.sources.length + 1);
    expect(decoded.sources[1]!.dmarcPass).toBe(0);
    expect(decoded.sources[summary.sources.length]).toMatchObject({ ip: '192.0.2.250', messages: 0 });
    const table = buildGroupTable([decoded], {}, markLookup(null), WINDOW, DOMAIN);
    expect(table.size).toBeGreaterThan(0);
    for (let group = 0; group < table.size; group++) {
      const { ip, ...figures } = groupStat(table, group);
      const { ip: rowIp, firstIngestedAt: _first, ...row } = decoded.sources.find((source) => source.ip === ip)!;
      expect(rowIp).toBe(ip);
      expect(figures).toEqual(row);
    }
    const key = encoded.keys[0]!;
    expect(decoded.sources[0]!.headerFrom[key]).toBe((summary.sources[0]!.headerFrom[key] ?? 0) + 5 + 1);
    // the rows after the first keep their own pairs
    expect(decoded.sources.slice(2, summary.sources.length)).toEqual(summary.sources.slice(2));
  });

  it('the IP view of a classified window answers as the map of every IP does', () => {
    const days = stored(randomDays(7, 10, 30));
    const identities = identitiesOf(days);
    const classified = classifyWindow({
      days,
      identities,
      marks: markLookup(null),
      window: WINDOW,
      domain: DOMAIN,
      thresholds: DEFAULT_THRESHOLDS,
    });
    const map = ipClasses(classified);
    const view = new IpClassView(classified);
    expect(view.size).toBe(map.size);
    expect([...view.keys()]).toEqual([...map.keys()]);
    for (const [ip, classifiedGroup] of map) {
      expect(view.has(ip)).toBe(true);
      expect(view.get(ip)!.class).toBe(classifiedGroup.class);
      expect(view.get(ip)!.hint).toEqual(classifiedGroup.hint);
      expect(view.get(ip)!.failureHint).toEqual(
        explainFailures(classifiedGroup.group.stat, {
          forwarder: classifiedGroup.group.identity.forwarder,
          domain: DOMAIN,
        }),
      );
    }
    expect(view.get('198.51.100.1')).toBeUndefined();
    expect(view.has('198.51.100.1')).toBe(false);
  });
});
