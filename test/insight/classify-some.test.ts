// classifySome (the class of a few IPs) against the full classification of the window: over
// generated stores (the example month and random reports of a second domain, ingested into SQLite),
// for every IP of the window and IPs absent from it, with IPs grouped by network, by PTR name and
// by service, IPs marked apart from their group and a marked group, from stored summaries and from
// day documents.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMonth, randomAggregateReport } from '../../src/generate/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { MarksDoc, ReportStore } from '../../src/store/types.ts';
import type { AggregateReport } from '../../src/model.ts';
import type { Identify } from '../../src/insight/types.ts';
import { bareIdentity } from '../../src/insight/group-table.ts';
import { classifyIps, classRank, type ClassifiedGroup } from '../../src/insight/classify.ts';
import { classifySome, SomeClasses } from '../../src/insight/classify-some.ts';
import { markLookup } from '../../src/insight/marks.ts';
import { KeyColumns } from '../../src/insight/row-keys.ts';
import { identifyDays } from '../../src/insight/queries.ts';
import { DEFAULT_THRESHOLDS } from '../../src/insight/readiness.ts';
import { addDays, windowEnding } from '../../src/insight/stats.ts';
import { asSummary, type DayData } from '../../src/store/summary.ts';

const DOMAIN = 'example.com';
const OTHER = 'other.example';
const END = '2026-01-31';
const NOW = new Date(`${END}T23:00:00Z`);

/** Groups of every kind: a service by range, PTR names, networks (by /24 or v6 prefix), lone IPs. */
const identify: Identify = async (ip) => {
  const base = bareIdentity(ip);
  if (ip.startsWith('205.201.'))
    return { ...base, key: 'mailchimp', name: 'Mailchimp', by: 'known', service: 'mailchimp' };
  if (ip.startsWith('209.85.'))
    return { ...base, key: 'google', name: 'Google', by: 'known', service: 'google', forwarder: true };
  const last = ip.includes(':') ? parseInt(ip.split(':').at(-1)! || '0', 16) : Number(ip.split('.')[3]);
  if (last % 5 === 0)
    return { ...base, key: 'relay.example', name: 'relay.example', by: 'ptr', ptr: `m${last}.relay.example` };
  if (last % 3 === 0) {
    const net = ip.includes(':') ? ip.split(':').slice(0, 3).join(':') : ip.split('.').slice(0, 3).join('.');
    return { ...base, key: `AS-${net}`, name: `AS ${net} Net`, by: 'asn', asn: 64500 };
  }
  return base;
};

let dir: string;
let store: ReportStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'classify-some-'));
  store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
  const { reports } = exampleMonth({ domain: DOMAIN, endDay: END, days: 40, seed: 11 });
  // a second domain whose random sources overlap the first one's documentation ranges
  const other: AggregateReport[] = [];
  for (let d = 0; d < 35; d++)
    for (const seed of [1, 2])
      other.push(
        randomAggregateReport({
          seed: `${d}-${seed}`,
          records: 40,
          domain: OTHER,
          begin: `${addDays(END, -d)}T00:00:00Z`,
        }),
      );
  // some reports of the example domain from the random generator too (overrides, bulk senders)
  for (let d = 0; d < 30; d += 3)
    other.push(
      randomAggregateReport({ seed: `x${d}`, records: 30, domain: DOMAIN, begin: `${addDays(END, -d)}T00:00:00Z` }),
    );
  for (const report of [...reports, ...other])
    await store.ingest(report, 'generated', new Date(Date.parse(report.end) + 3_600_000));
  await store.flush();
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a test compares of a classified group: the class, both hints and the group itself. */
function shape(classified: ClassifiedGroup | undefined) {
  if (!classified) return undefined;
  const { group } = classified;
  return {
    class: classified.class,
    hint: classified.hint,
    failureHint: classified.failureHint,
    key: group.key,
    identity: group.identity,
    mark: group.mark,
    stat: group.stat,
    ips: [...group.ips.entries()],
    activeDays: group.activeDays,
    domains: [...group.domains].sort(),
    lastDay: group.lastDay,
  };
}

/** Every IP of the days, a few absent ones, in a stable order. */
function ipsOf(days: readonly DayData[]): string[] {
  const ips = new Set<string>();
  for (const day of days) for (const source of asSummary(day).sources) ips.add(source.ip);
  return [...ips, '192.0.2.253', '2001:db8:ffff::1', 'not-an-ip'].sort();
}

async function compare(days: readonly DayData[], marks: MarksDoc, window = windowEnding(NOW, 30)): Promise<number> {
  const identities = await identifyDays(identify, days, { dns: false });
  const thresholds = DEFAULT_THRESHOLDS;
  const full = classifyIps({ days, identities, marks, window, domains: [DOMAIN, OTHER], thresholds });
  const lookup = markLookup(marks);
  const identityOf = (ip: string) => identities[ip];
  const ips = ipsOf(days);
  let classed = 0;
  for (const domain of [DOMAIN, OTHER]) {
    const all = full.get(domain)!;
    // all at once, one at a time, and in small batches: the answer never depends on the company
    const together = classifySome({ days, identityOf, marks: lookup, window, domain, thresholds, ips });
    // the same through key columns (the memo's keys as numbers), filled once and read again
    const rowKeys = new KeyColumns().of(identityOf, identityOf);
    for (const pass of [1, 2]) {
      const columns = classifySome({ days, identityOf, rowKeys, marks: lookup, window, domain, thresholds, ips });
      for (const ip of ips)
        expect(shape(columns.get(ip)), `${domain} ${ip} by columns, ${pass}`).toEqual(shape(all.get(ip)));
    }
    for (let at = 0; at < ips.length; at++) {
      const ip = ips[at]!;
      const expected = shape(all.get(ip));
      expect(shape(together.get(ip)), `${domain} ${ip}`).toEqual(expected);
      if (at % 7 === 0) {
        const alone = classifySome({ days, identityOf, marks: lookup, window, domain, thresholds, ips: [ip] });
        expect(shape(alone.get(ip)), `${domain} ${ip} alone`).toEqual(expected);
        const byColumns = classifySome({
          days,
          identityOf,
          rowKeys,
          marks: lookup,
          window,
          domain,
          thresholds,
          ips: [ip],
        });
        expect(shape(byColumns.get(ip)), `${domain} ${ip} alone, by columns`).toEqual(expected);
      }
      if (expected) classed += 1;
    }
    // the ranks SomeClasses gives from counters where they decide, and by classifying where not
    for (const keys of [undefined, rowKeys]) {
      const input = { days, identityOf, rowKeys: keys, marks: lookup, window, domain, thresholds };
      const some = new SomeClasses(input, ips);
      for (const ip of ips) {
        const expected = all.get(ip);
        expect(some.rankOf(ip), `${domain} ${ip} rank`).toBe(expected ? classRank(expected.class) : undefined);
      }
      // the classes asked after the ranks: those the ranks left unclassified are classified then
      const late = some.classesOf(ips);
      for (const ip of ips) expect(shape(late.get(ip)), `${domain} ${ip} after ranks`).toEqual(shape(all.get(ip)));
    }
    for (let at = 0; at < ips.length; at += 11) {
      const batch = ips.slice(at, at + 4);
      const some = classifySome({ days, identityOf, marks: lookup, window, domain, thresholds, ips: batch });
      for (const ip of batch) expect(shape(some.get(ip)), `${domain} ${ip} in a batch`).toEqual(shape(all.get(ip)));
      expect([...some.keys()].every((ip) => batch.includes(ip))).toBe(true);
    }
  }
  return classed;
}

function marksOf(days: readonly DayData[]): MarksDoc {
  const ips = ipsOf(days).filter((ip) => ip.includes('.') || ip.includes(':'));
  const marks: MarksDoc = {};
  const mark = (subject: string, verdict: 'mine' | 'spoof') =>
    (marks[subject] = { subject, verdict, by: 'test', at: '2026-01-01T00:00:00.000Z' });
  // IPs of PTR and network groups marked apart, a lone IP, a whole network group, a service by name
  ips.filter((_, index) => index % 9 === 0).forEach((ip, index) => mark(ip, index % 2 ? 'mine' : 'spoof'));
  mark('AS 192.0.2 Net', 'mine');
  mark('mailchimp', 'spoof');
  return marks;
}

describe('classifySome', () => {
  it('gives the full classification of the window for every IP asked about (stored summaries)', async () => {
    const window = windowEnding(NOW, 30);
    const days = await store.summaries(null, window.from, window.to);
    expect(await compare(days, {})).toBeGreaterThan(100);
    expect(await compare(days, marksOf(days))).toBeGreaterThan(100);
  });

  it('the same from day documents, over another window, one domain read', async () => {
    const window = { from: addDays(END, -20), to: addDays(END, -5) };
    const days = await store.days(null, window.from, window.to);
    const summaries = await store.summaries(DOMAIN, window.from, window.to);
    expect(await compare(days, marksOf(summaries), window)).toBeGreaterThan(50);
    expect(await compare(summaries, marksOf(summaries), window)).toBeGreaterThan(50);
  });

  it('key columns follow an identity whose key changed once they are invalidated', async () => {
    const window = windowEnding(NOW, 30);
    const days = await store.summaries(DOMAIN, window.from, window.to);
    const identities = await identifyDays(identify, days, { dns: false });
    const thresholds = DEFAULT_THRESHOLDS;
    const lookup = markLookup({});
    const current = { ...identities };
    const identityOf = (ip: string) => current[ip];
    const columns = new KeyColumns();
    const classes = () =>
      classifySome({
        days,
        identityOf,
        rowKeys: columns.of(identityOf, identityOf),
        marks: lookup,
        window,
        domain: DOMAIN,
        thresholds,
        ips: ipsOf(days),
      });
    classes();
    // a lone IP is found to belong to a named group (as a DNS lookup can show)
    const lone = ipsOf(days).find((ip) => identities[ip]?.key === ip)!;
    const named = Object.values(identities).find((identity) => identity.key !== identity.name || identity.by !== 'ip')!;
    current[lone] = { ...named };
    columns.invalidate();
    const expected = classifyIps({
      days,
      identities: current,
      marks: {},
      window,
      domains: [DOMAIN],
      thresholds,
    }).get(DOMAIN)!;
    const got = classes();
    expect(shape(got.get(lone))).toEqual(shape(expected.get(lone)));
    expect(got.get(lone)!.group.key).toBe(named.key);
    for (const ip of ipsOf(days)) expect(shape(got.get(ip)), ip).toEqual(shape(expected.get(ip)));
  });

  it('classes nothing for IPs absent from the window or a domain without rows', async () => {
    const window = windowEnding(NOW, 30);
    const days = await store.summaries(DOMAIN, window.from, window.to);
    const identities = await identifyDays(identify, days, { dns: false });
    const some = classifySome({
      days,
      identityOf: (ip) => identities[ip],
      marks: markLookup({}),
      window,
      domain: 'absent.example',
      thresholds: DEFAULT_THRESHOLDS,
      ips: ipsOf(days),
    });
    expect(some.size).toBe(0);
    const none = classifySome({
      days,
      identityOf: (ip) => identities[ip],
      marks: markLookup({}),
      window,
      domain: DOMAIN,
      thresholds: DEFAULT_THRESHOLDS,
      ips: ['192.0.2.253', '::1'],
    });
    expect(none.size).toBe(0);
  });
});
