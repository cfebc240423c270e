// Acceptance: the query functions over a real SQLite store holding a generated month whose right
// answers are known by construction (src/generate exampleMonth): a forgotten relay, a newsletter
// ESP with unaligned SPF/DKIM, forwarding through a mailbox provider, a spoofing burst, and a
// report spanning three days.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleMonth, randomAggregateReport, type ScenarioTruth } from '../../src/generate/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import type { AggregateReport } from '../../src/model.ts';
import type { Identify, SenderIdentity } from '../../src/insight/types.ts';
import {
  identifyDays,
  queryDate,
  queryDigest,
  queryIp,
  queryReady,
  querySources,
  querySummary,
} from '../../src/insight/queries.ts';
import { classifyIps } from '../../src/insight/classify.ts';
import { bareIdentity } from '../../src/insight/group-table.ts';
import { dateInsight } from '../../src/insight/date.ts';
import { DEFAULT_THRESHOLDS } from '../../src/insight/readiness.ts';
import { addDays, windowEnding } from '../../src/insight/stats.ts';
import { summaryRows } from '../../src/store/summary.ts';

const domain = 'example.com';
const endDay = '2026-01-31';
const now = new Date(`${endDay}T23:00:00Z`);
const HOUR = 3_600_000;
/** Each report is received 2 hours after its range ends. */
const receivedAt = (report: AggregateReport) => new Date(Date.parse(report.end) + 2 * HOUR);

/** Offline identification of the scenario's ranges; `dns` calls are counted. */
const dnsCalls: string[] = [];
const identify: Identify = async (ip, _hints, options) => {
  if (options?.dns) dnsCalls.push(ip);
  const base: SenderIdentity = {
    key: ip,
    name: ip,
    by: 'ip',
    service: null,
    forwarder: false,
    ptr: null,
    asn: null,
    asName: null,
    country: null,
  };
  if (ip.startsWith('205.201.'))
    return { ...base, key: 'mailchimp', name: 'Mailchimp', by: 'known', service: 'mailchimp', asn: 14135 };
  if (ip.startsWith('209.85.'))
    return { ...base, key: 'google', name: 'Google', by: 'known', service: 'google', forwarder: true, asn: 15169 };
  if (ip === '192.0.2.10' || ip === '2001:db8:10::25')
    return { ...base, key: 'mail.example.com', name: 'mail.example.com', by: 'ptr', ptr: 'mail.example.com' };
  return base;
};

let dir: string;
let store: ReportStore;
let reports: AggregateReport[];
let truth: ScenarioTruth;
const source = (role: string) => truth.sources.find((s) => s.role === role)!;

beforeAll(async () => {
  ({ reports, truth } = exampleMonth({ domain, endDay, days: 30, seed: 7 }));
  dir = mkdtempSync(join(tmpdir(), 'insight-queries-'));
  store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
  for (const report of reports) await store.ingest(report, 'generated', receivedAt(report));
  await store.flush();
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Messages per IP over the generated reports. */
function messagesByIp(): Map<string, number> {
  const byIp = new Map<string, number>();
  for (const report of reports)
    for (const record of report.records) byIp.set(record.sourceIp, (byIp.get(record.sourceIp) ?? 0) + record.count);
  return byIp;
}

describe('queryReady on the generated month', () => {
  it('classifies each kind of source as constructed', async () => {
    const [result] = await queryReady(store, identify, domain, DEFAULT_THRESHOLDS, now);
    const byKey = new Map(result!.sources.map((s) => [s.key, s]));
    expect(byKey.get('mail.example.com')).toMatchObject({
      class: 'aligned',
      messages: source('own').messages,
      dmarcPass: source('own').messages,
    });
    expect(byKey.get('mailchimp')).toMatchObject({
      class: 'legitimate-failing',
      messages: source('esp').messages,
      dmarcPass: 0,
      hint: { code: 'dkim-unaligned', params: { dkimDomain: 'mcsv.net' } },
    });
    expect(byKey.get('google')).toMatchObject({ class: 'forwarded', messages: source('forwarder').messages });
    // the relay sends on most weekdays: a steady sender nobody knows
    expect(byKey.get('198.51.100.25')).toMatchObject({
      class: 'unconfirmed',
      messages: source('forgotten').messages,
      activeDays: source('forgotten').days.length,
      hint: { code: 'no-auth' },
    });
    expect(result!.verdict).toBe('not-ready');
    expect(result!.blockers.map((b) => b.sender).sort()).toEqual(
      expect.arrayContaining(['198.51.100.25', 'Mailchimp']),
    );
    expect(result!.policy).toMatchObject({ p: 'none' });
    // the figures add up to the generated totals
    expect(result!.figures.messages).toBe(truth.totals.messages);
  });

  it("the spoofing burst: an IP over 1 % of the volume blocks as unconfirmed (it may be the owner's), else it is spoofing", async () => {
    const [result] = await queryReady(store, identify, domain, DEFAULT_THRESHOLDS, now);
    const byIp = messagesByIp();
    for (const ip of source('spoofer').ips) {
      const share = (byIp.get(ip) ?? 0) / truth.totals.messages;
      const expected = share > DEFAULT_THRESHOLDS.regularSenderMinShare ? 'unconfirmed' : 'spoofing';
      expect(result!.sources.find((s) => s.key === ip)?.class, ip).toBe(expected);
    }
    // without the share rule the whole burst is spoofing, and it is left out of the pass rate
    const [strict] = await queryReady(
      store,
      identify,
      domain,
      { ...DEFAULT_THRESHOLDS, regularSenderMinShare: 0.5 },
      now,
    );
    expect(strict!.figures.spoofingMessages).toBe(source('spoofer').messages);
    expect(strict!.figures.forwardedMessages).toBe(source('forwarder').messages);
  });

  it('without a domain: one answer per domain of the store, the same as asking for it', async () => {
    const all = await queryReady(store, identify, null, DEFAULT_THRESHOLDS, now);
    const [one] = await queryReady(store, identify, domain, DEFAULT_THRESHOLDS, now);
    expect(all.map((r) => r.domain)).toEqual(await store.domains());
    expect(all.find((r) => r.domain === domain)).toEqual(one);
  });

  it('remembers offline identities between questions, and what DNS taught it', async () => {
    let offline = 0;
    const counting: Identify = async (ip, hints, options) => {
      if (!options?.dns) offline += 1;
      return identify(ip, hints, options);
    };
    await queryReady(store, counting, domain, DEFAULT_THRESHOLDS, now);
    const first = offline;
    expect(first).toBe(messagesByIp().size);
    await queryReady(store, counting, domain, DEFAULT_THRESHOLDS, now);
    expect(offline).toBe(first);
  });

  it('looks up DNS only for a few blocker IPs, never in bulk', async () => {
    dnsCalls.length = 0;
    await queryReady(store, identify, domain, DEFAULT_THRESHOLDS, now);
    expect(dnsCalls.length).toBeGreaterThan(0);
    expect(dnsCalls.length).toBeLessThanOrEqual(8);
  });

  it('a mark stored in the store changes the classification and the next step', async () => {
    await store.setMark({ subject: '198.51.100.25', verdict: 'mine', by: 'owner', at: now.toISOString() });
    for (const ip of source('spoofer').ips)
      await store.setMark({ subject: ip, verdict: 'spoof', by: 'owner', at: now.toISOString() });
    try {
      const [result] = await queryReady(store, identify, domain, DEFAULT_THRESHOLDS, now);
      expect(result!.sources.find((s) => s.key === '198.51.100.25')).toMatchObject({
        class: 'legitimate-failing',
        mark: 'mine',
      });
      expect(result!.figures.spoofingMessages).toBe(source('spoofer').messages);
      expect(result!.blockers.every((b) => b.class === 'legitimate-failing')).toBe(true);
      expect(result!.nextStep.code).toBe('fix-blocker');
    } finally {
      for (const ip of ['198.51.100.25', ...source('spoofer').ips]) await store.clearMark(ip);
    }
  });
});

describe('queryIp, queryDate, querySummary, querySources on the generated month', () => {
  it('ip: the relay over 30 days, every day it sent, with its fix', async () => {
    const relay = source('forgotten');
    const result = await queryIp(store, identify, '198.51.100.25', { days: 30, now });
    expect(result).toMatchObject({
      known: true,
      messages: relay.messages,
      dmarcPass: 0,
      domains: [domain],
      firstSeen: relay.days[0],
      lastSeen: relay.days.at(-1),
      hint: { code: 'no-auth' },
    });
    expect(result.days.map((d) => d.date)).toEqual(relay.days);
    // an IPv6 address written another way finds the same rows
    const own = await queryIp(store, identify, '2001:DB8:10:0::25', { days: 30, now });
    expect(own).toMatchObject({
      ip: '2001:db8:10::25',
      known: true,
      messages: messagesByIp().get('2001:db8:10::25'),
      sender: 'mail.example.com',
      hint: null,
    });
    const unknown = await queryIp(store, identify, '192.0.2.222', { days: 30, now });
    expect(unknown).toMatchObject({ known: false, messages: 0 });
  });

  it('date: the report spanning three days is listed on its middle day', async () => {
    const multi = truth.multiDayReport!;
    const middle = addDays(multi.begin.slice(0, 10), 1);
    const result = await queryDate(store, middle, identify);
    const listed = result.domains[0]!.reports.find((r) => r.reportId === multi.reportId);
    expect(listed).toMatchObject({ orgName: multi.orgName, begin: multi.begin, end: multi.end });
  });

  it('summary and sources add up to the generated totals', async () => {
    const summary = await querySummary(store, 30, now);
    expect(summary.domains).toHaveLength(1);
    expect(summary.domains[0]).toMatchObject({
      domain,
      messages: truth.totals.messages,
      dmarcPass: truth.totals.dmarcPass,
      reports: truth.totals.reports,
    });
    const sources = await querySources(store, identify, 30, now, { limit: 3 });
    expect(sources.messages).toBe(truth.totals.messages);
    expect(sources.sources).toHaveLength(3);
    // what needs action first: classes in rank order, then volume within a class
    const rank = (c: string) => (c === 'unconfirmed' ? 0 : c === 'legitimate-failing' ? 1 : 2);
    const [a, b] = sources.sources;
    expect(rank(a!.class)).toBeLessThanOrEqual(rank(b!.class));
    if (rank(a!.class) === rank(b!.class)) expect(a!.messages).toBeGreaterThanOrEqual(b!.messages);
  });
});

describe('queryDigest on the generated month', () => {
  it('daily digests over the month count every report once and name each IP new once', async () => {
    let messages = 0;
    let aggregate = 0;
    const newIps: string[] = [];
    let since = new Date(`${truth.firstDay}T09:00:00Z`);
    const last = new Date(Date.parse(`${endDay}T00:00:00Z`) + 3 * 86_400_000);
    while (since < last) {
      const until = new Date(since.getTime() + 24 * HOUR);
      const digest = await queryDigest(store, identify, { since, until, now: until, limit: 100 });
      aggregate += digest.received.aggregate;
      for (const d of digest.domains) {
        messages += d.messages;
        newIps.push(...d.newSources.map((s) => s.ip));
      }
      since = until;
    }
    // the first digest starts at 09:00 of the first day: every report is received later than that
    expect(aggregate).toBe(truth.totals.reports);
    expect(messages).toBe(truth.totals.messages);
    expect(newIps.sort()).toEqual([...messagesByIp().keys()].sort());
  });
});

describe('queryDigest with a late report', () => {
  it('counts a report about a day long before the readiness window in the digest that received it', async () => {
    const late: AggregateReport = {
      ...reports[0]!,
      orgName: 'Late Reporter',
      reportId: 'late-1',
      begin: '2025-12-01T00:00:00Z',
      end: '2025-12-01T23:59:59Z',
      records: [{ ...reports[0]!.records[0]!, sourceIp: '192.0.2.99', count: 17 }],
    };
    await store.ingest(late, 'generated', new Date('2026-02-05T12:00:00Z'));
    await store.flush();
    const digest = await queryDigest(store, identify, {
      since: new Date('2026-02-05T00:00:00Z'),
      until: new Date('2026-02-06T00:00:00Z'),
      now: new Date('2026-02-06T00:00:00Z'),
    });
    expect(digest.received.aggregate).toBe(1);
    expect(digest.domains).toHaveLength(1);
    expect(digest.domains[0]).toMatchObject({
      domain,
      reports: 1,
      messages: 17,
      reporters: [{ key: 'Late Reporter', messages: 17 }],
    });
    expect(digest.domains[0]!.newSources.map((s) => s.ip)).toEqual(['192.0.2.99']);
  });
});

describe('date after ip has learnt a sender by DNS', () => {
  it('classes the IP in the group DNS found, as an identifier that knew it from the start does', async () => {
    // days busy enough that their summaries are shared between reads (summary-cache.ts), so the
    // second date reads the same rows as the first
    const busy = 'busy.example';
    const busyDir = mkdtempSync(join(tmpdir(), 'insight-queries-busy-'));
    const busyStore = await openStore(`sqlite://${join(busyDir, 'store.sqlite')}`);
    try {
      for (let d = 0; d < 6; d++)
        for (const seed of [1, 2, 3])
          await busyStore.ingest(
            randomAggregateReport({
              seed: `${d}-${seed}`,
              records: 300,
              domain: busy,
              begin: `${addDays(endDay, -d)}T00:00:00Z`,
            }),
            'generated',
            now,
          );
      await busyStore.flush();
      const day = addDays(endDay, -2);
      const [summary] = await busyStore.summaries(busy, day, day);
      const sources = [...summary!.sources];
      // DNS puts a listed failing IP (chosen below) into the group of a passing one
      let failing = '';
      const passing = sources.find((row) => row.dmarcPass === row.messages)!.ip;
      const bare = bareIdentity;
      const named = (ip: string): SenderIdentity => ({ ...bare(ip), key: 'mx.example', name: 'mx.example', by: 'ptr' });
      const withOffline = (knowsPtr: boolean): Identify => {
        const offline = (ip: string) => (ip === passing || (knowsPtr && ip === failing) ? named(ip) : bare(ip));
        const learning: Identify = async (ip, _hints, options) =>
          options?.dns && ip === failing ? named(ip) : offline(ip);
        learning.offline = offline;
        return learning;
      };
      const learning = withOffline(false);
      const before = await queryDate(busyStore, day, learning, { now });
      failing = before.domains[0]!.failingSources[0]!.ip;
      await queryIp(busyStore, learning, failing, { days: 30, now });
      const after = await queryDate(busyStore, day, learning, { now });
      expect(after).toEqual(await queryDate(busyStore, day, withOffline(true), { now }));
      expect(after).not.toEqual(before);
    } finally {
      await busyStore.close();
      rmSync(busyDir, { recursive: true, force: true });
    }
  });
});

describe('date lists what the whole window classification gives', () => {
  it('on every day of the month, with marks, looked up offline or identified in bulk', async () => {
    // the scenario's identification, also offline and synchronous (as the project's identify is)
    const syncIdentity = new Map<string, SenderIdentity>();
    for (const report of reports)
      for (const record of report.records)
        syncIdentity.set(record.sourceIp, await identify(record.sourceIp, { dkimDomains: [], spfDomains: [] }));
    const offline: Identify = async (ip, hints, options) => identify(ip, hints, options);
    offline.offline = (ip) => syncIdentity.get(ip)!;
    const marked = source('spoofer').ips[0]!;
    await store.setMark({ subject: marked, verdict: 'mine', by: 'owner', at: now.toISOString() });
    await store.setMark({ subject: 'Mailchimp', verdict: 'spoof', by: 'owner', at: now.toISOString() });
    try {
      const marks = await store.marks();
      const window = windowEnding(now, DEFAULT_THRESHOLDS.windowDays);
      const windowDays = await store.summaries(null, window.from, window.to);
      for (let d = 0; d < 30; d++) {
        const date = addDays(endDay, -d);
        const days = await store.summaries(null, date, date);
        for (const identifyBy of [identify, offline]) {
          const identities = await identifyDays(identifyBy, windowDays, { dns: false });
          const domains = [...new Set(days.map((day) => day.domain))];
          const classes = classifyIps({
            days: windowDays,
            identities,
            marks,
            window,
            domains,
            thresholds: DEFAULT_THRESHOLDS,
          });
          const expected = dateInsight({ date, days, identities, classes });
          expect(await queryDate(store, date, identifyBy, { now }), date).toEqual(expected);
        }
      }
    } finally {
      await store.clearMark(marked);
      await store.clearMark('Mailchimp');
    }
  });
});

describe('identifyDays gives every IP of the window its identity once', () => {
  it('as identifying each distinct IP in row order does, offline, in bulk, from the memo and for a few', async () => {
    const window = windowEnding(now, DEFAULT_THRESHOLDS.windowDays);
    const days = await store.summaries(null, window.from, window.to);
    // the straightforward computation: each distinct IP of the rows, in the order first met
    const order: string[] = [];
    const met = new Set<string>();
    for (const day of days)
      for (const ip of summaryRows(day).ips)
        if (!met.has(ip)) {
          met.add(ip);
          order.push(ip);
        }
    const expected: Record<string, SenderIdentity> = {};
    for (const ip of order) expected[ip] = await identify(ip, { dkimDomains: [], spfDomains: [] });

    // a fresh identifier each time, so its memo starts empty; calls are counted per IP
    const counted = (withOffline: boolean) => {
      const calls = new Map<string, number>();
      const count = (ip: string) => calls.set(ip, (calls.get(ip) ?? 0) + 1);
      const fn: Identify = async (ip, hints, options) => (count(ip), identify(ip, hints, options));
      if (withOffline) fn.offline = (ip) => (count(ip), { ...expected[ip]! });
      return { fn, calls };
    };
    for (const withOffline of [false, true]) {
      const { fn, calls } = counted(withOffline);
      const first = await identifyDays(fn, days, { dns: false });
      expect(Object.keys(first)).toEqual(order);
      expect(first).toEqual(expected);
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      expect(calls.size).toBe(order.length);
      // again: the memo answers, nothing is identified twice
      const again = await identifyDays(fn, days, { dns: false });
      expect(again).toEqual(expected);
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      // DNS for a few: exactly those in the window, one call each
      const few = [order[order.length - 1]!, order[0]!, '198.51.100.250'];
      const before = new Map(calls);
      const some = await identifyDays(fn, days, { dns: true, only: new Set(few) });
      expect(Object.keys(some).sort()).toEqual(few.filter((ip) => met.has(ip)).sort());
      for (const ip of Object.keys(some)) {
        expect(some[ip]).toEqual(expected[ip]);
        expect(calls.get(ip)).toBe((before.get(ip) ?? 0) + 1);
      }
    }
  });
});
