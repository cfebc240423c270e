// The window queries read the IPs of stored rows by integer ids and identifyDays' identities by
// those ids: the classification and readiness they give equal those of the identity record
// alone, at two densities of a window, after an identity is changed, and after the ids are
// forgotten between identifying and classifying.

import { describe, expect, it } from 'vitest';
import { decodeSummary, encodeSummary, type DaySummary, type SummarySource } from '../../src/store/summary.ts';
import { dict, own } from '../../src/store/dict.ts';
import { summaryHead } from './summary-head.ts';
import { emptyStat } from '../../src/insight/stats.ts';
import { bareIdentity } from '../../src/insight/group-table.ts';
import { classifyWindow, IpClassView } from '../../src/insight/classify.ts';
import { identifyDays } from '../../src/insight/queries.ts';
import { DEFAULT_THRESHOLDS, readiness } from '../../src/insight/readiness.ts';
import { identitiesById, ipIds, setIdentity } from '../../src/insight/ip-ids.ts';
import type { Identify, SenderIdentity } from '../../src/insight/types.ts';
import type { MarksDoc } from '../../src/store/types.ts';

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

/** A month of one domain: a few regular senders every day, the rest random strays. */
function month(seed: number, perDay: number): DaySummary[] {
  const next = rng(seed);
  return Array.from({ length: 30 }, (_, d) => {
    const date = `2024-05-${String(d + 1).padStart(2, '0')}`;
    const ingestedAt = `${date}T12:00:00.000Z`;
    const ips = new Set<string>();
    for (let i = 0; i < 10; i++) ips.add(`192.0.2.${i}`);
    while (ips.size < perDay) ips.add(`198.51.${Math.floor(next() * 4)}.${Math.floor(next() * 256)}`);
    const sources = [...ips].sort().map((ip): SummarySource => {
      const messages = 1 + Math.floor(next() * 5);
      const pass = ip.startsWith('192.') ? messages : next() < 0.2 ? 1 : 0;
      return {
        ...emptyStat(ip),
        messages,
        dmarcPass: pass,
        dkimAligned: pass,
        spf: next() < 0.5 ? { 'example.com fail': messages } : {},
        dkim: pass ? { 'example.com s1 pass': pass } : {},
        firstIngestedAt: ingestedAt,
      };
    });
    return {
      domain: DOMAIN,
      date,
      reports: [summaryHead(DOMAIN, date, ingestedAt)],
      sources,
    };
  });
}

/** Offline identities: the regular senders and every third stray in shared groups, the rest by IP. */
function offlineOf(ip: string): SenderIdentity {
  const last = Number(ip.split('.')[3]);
  if (ip.startsWith('192.')) return { ...bareIdentity(ip), key: 'own', name: 'Own', by: 'known', service: 'own' };
  if (last % 3 === 0) return { ...bareIdentity(ip), key: `AS${last % 7}`, name: `AS${last % 7}`, by: 'asn' };
  return bareIdentity(ip);
}

function identifier(): Identify {
  const identify = (async (ip: string) => offlineOf(ip)) as Identify;
  identify.offline = offlineOf;
  return identify;
}

const mark = (subject: string, verdict: 'mine' | 'spoof') => ({
  subject,
  verdict,
  by: 'owner',
  at: '2024-05-30T00:00:00Z',
});
const MARKS: MarksDoc = { a: mark('198.51.0.3', 'spoof'), b: mark('192.0.2.4', 'mine'), c: mark('AS2', 'mine') };

/** The same identities in a record of its own (no identities by id beside it). */
const recordOnly = (identities: Record<string, SenderIdentity>) => Object.assign(dict<SenderIdentity>(), identities);

function classified(days: readonly DaySummary[], identities: Record<string, SenderIdentity>) {
  const window = classifyWindow({
    days,
    identities,
    marks: MARKS,
    window: WINDOW,
    domain: DOMAIN,
    thresholds: DEFAULT_THRESHOLDS,
  });
  const { table } = window;
  const view = new IpClassView(window);
  return {
    groups: Array.from({ length: table.size }, (_, group) => ({
      key: table.keys[group],
      identity: table.identities[group],
      mark: table.marks[group],
      counters: Array.from(table.counters.subarray(group * 8, group * 8 + 8)),
      days: table.activeDays[group],
      class: window.classes[group],
      hint: window.hint(group),
    })),
    ips: table.ips.map((ip) => [ip, view.get(ip)?.class, view.has(ip)]),
    stranger: view.get('203.0.113.1'),
    ready: readiness({
      domain: DOMAIN,
      days,
      identities,
      marks: MARKS,
      thresholds: DEFAULT_THRESHOLDS,
      window: WINDOW,
    }),
  };
}

describe('IP ids in the window queries', () => {
  for (const perDay of [40, 80])
    it(`classify by id as by the identity record (${perDay} sources a day)`, async () => {
      const days = month(perDay, perDay).map((day) => decodeSummary(encodeSummary(day)));
      const identify = identifier();
      const identities = await identifyDays(identify, days, { dns: false });
      expect(identitiesById(identities)).toBeDefined();
      const byId = classified(days, identities);
      expect(byId).toEqual(classified(days, recordOnly(identities)));
      expect(byId.groups.length).toBeGreaterThan(perDay);
      // a second query reads the remembered columns and identities
      const again = await identifyDays(identify, days, { dns: false });
      expect(classified(days, again)).toEqual(byId);

      // an identity changed through setIdentity is seen by id as in the record
      const ip = days[3]!.sources[20]!.ip;
      setIdentity(again, ip, { ...bareIdentity(ip), key: 'own', name: 'Own', by: 'known', service: 'own' });
      const changed = classified(days, again);
      expect(changed).toEqual(classified(days, recordOnly(again)));
      expect(changed).not.toEqual(byId);

      // ids forgotten after identifying: the record is read instead, with the same answers
      ipIds.begin(0);
      expect(identitiesById(identities)).toBeUndefined();
      expect(classified(days, identities)).toEqual(byId);
      const fresh0 = () => identities;
      // a table's IP index still answers once its ids are forgotten
      const window = classifyWindow({
        days,
        identities: fresh0(),
        marks: MARKS,
        window: WINDOW,
        domain: DOMAIN,
        thresholds: DEFAULT_THRESHOLDS,
      });
      ipIds.begin(0);
      const view = new IpClassView(window);
      const { table } = window;
      expect(table.ips.map((text) => view.get(text)?.class)).toEqual(
        table.ipGroup
          .slice(0, table.ips.length)
          .reduce<unknown[]>((list, group) => [...list, window.classes[group]], []),
      );
      // and identifying anew gives them by id again
      const fresh = await identifyDays(identify, days, { dns: false });
      expect(identitiesById(fresh)).toBeDefined();
      expect(classified(days, fresh)).toEqual(byId);
    });

  it('merges a named group whose key is the text of another IP with that IP alone', async () => {
    const days = month(7, 40).map((day) => decodeSummary(encodeSummary(day)));
    const identities = await identifyDays(identifier(), days, { dns: false });
    setIdentity(identities, '192.0.2.1', { ...bareIdentity('192.0.2.1'), key: '192.0.2.2', name: 'Relay', by: 'ptr' });
    setIdentity(identities, '192.0.2.2', bareIdentity('192.0.2.2'));
    for (const record of [identities, recordOnly(identities)]) {
      const { table } = classifyWindow({
        days,
        identities: record,
        marks: {},
        window: WINDOW,
        domain: DOMAIN,
        thresholds: DEFAULT_THRESHOLDS,
      });
      const group = table.ipGroup[table.ipIndex('192.0.2.1')!];
      expect(table.ipGroup[table.ipIndex('192.0.2.2')!]).toBe(group);
      expect(table.keys[group!]).toBe('192.0.2.2');
      expect(table.keys.filter((key) => key === '192.0.2.2')).toHaveLength(1);
    }
  });
});

describe("identifyDays' record of identities", () => {
  it('reads, lists and takes writes as a plain record, before and after the ids are forgotten', async () => {
    const days = month(7, 40).map((day) => decodeSummary(encodeSummary(day)));
    const identities = await identifyDays(identifier(), days, { dns: false });
    // every IP once, in the order the days first show it, with its offline identity
    const order = [...new Set(days.flatMap((day) => day.sources.map((source) => source.ip)))];
    const expected = dict<SenderIdentity>();
    for (const ip of order) expected[ip] = offlineOf(ip);
    const check = () => {
      expect(Object.keys(identities)).toEqual(order);
      expect({ ...identities }).toEqual({ ...expected });
      expect(JSON.stringify(identities)).toBe(JSON.stringify(expected));
      for (const ip of [order[0]!, order[17]!, '203.0.113.9', '__proto__', 'constructor', 'then']) {
        expect(own(identities, ip)).toEqual(own(expected, ip));
        expect(identities[ip]).toEqual(expected[ip]);
        expect(ip in identities).toBe(ip in expected);
      }
    };
    check();
    const ip = order[5]!;
    const changed = { ...bareIdentity(ip), key: 'own', name: 'Own', by: 'known' as const, service: 'own' };
    setIdentity(identities, ip, changed);
    expected[ip] = changed;
    check();
    ipIds.begin(0);
    check();
    const added = { ...bareIdentity('203.0.113.9') };
    identities['203.0.113.9'] = added;
    expected['203.0.113.9'] = added;
    order.push('203.0.113.9');
    check();
  });
});
