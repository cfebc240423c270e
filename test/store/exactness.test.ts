// The answers read from day summaries equal the answers computed from the report parts, at 100 and
// at 200 reports a day: `summary` and `date` against figures counted straight from the generated
// reports, `ready` and `sources` against the same functions over the day documents, and the digest
// against the digest computed from whole day documents (the earlier read path).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import { apportion, attributionDays, openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import type { Identify } from '../../src/insight/types.ts';
import {
  DEFAULT_THRESHOLDS,
  digestData,
  newIpsByDomain,
  queryDate,
  queryDigest,
  queryReady,
  querySources,
  querySummary,
  readiness,
  sources,
} from '../../src/insight/index.ts';
import { classifyIps } from '../../src/insight/classify.ts';
import { readinessOutline } from '../../src/insight/readiness.ts';
import { bareIdentity } from '../../src/insight/groups.ts';
import { addDays, windowEnding } from '../../src/insight/stats.ts';
import { record } from './factories.ts';

const DOMAIN = 'example.org';
const DAYS = 9;
const FIRST = '2024-03-01';
const LAST = addDays(FIRST, DAYS - 1);
const NOW = new Date(`${addDays(LAST, 1)}T20:00:00Z`);
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Small deterministic PRNG (mulberry32). */
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

interface Generated {
  report: AggregateReport;
  receivedAt: Date;
}

/** `perDay` reports a day of a few records each; one in ten runs noon to noon (split over two days). */
function month(perDay: number, seed: number): Generated[] {
  const next = rng(seed);
  const generated: Generated[] = [];
  for (let d = 0; d < DAYS; d++) {
    const day = addDays(FIRST, d);
    for (let k = 0; k < perDay; k++) {
      const spanning = k % 10 === 9 && d < DAYS - 1;
      const records: AggregateRecord[] = Array.from({ length: 4 }, (_, r) => {
        const regular = r < 2;
        const index = regular ? Math.floor(next() * 40) : 40 + Math.floor(next() * 3000);
        const ip = `198.18.${index >> 8}.${index & 255}`;
        const pass = regular ? index < 30 : next() < 0.1;
        return record(ip, 1 + Math.floor(next() * (regular ? 30 : 4)), {
          dmarc: pass ? 'pass' : 'fail',
          reasons: !pass && next() < 0.05 ? ['forwarded'] : [],
        });
      });
      generated.push({
        report: {
          kind: 'aggregate',
          version: '1.0',
          orgName: `reporter-${k % 37}.example`,
          orgEmail: null,
          reportId: `${day}-${k}`,
          begin: spanning ? `${day}T12:00:00Z` : `${day}T00:00:00Z`,
          end: spanning ? `${addDays(day, 1)}T11:59:59Z` : `${day}T23:59:59Z`,
          policy: {
            domain: DOMAIN,
            p: 'none',
            sp: null,
            np: null,
            pct: null,
            adkim: 'r',
            aspf: 'r',
            fo: null,
            testing: null,
          },
          records,
          errors: [],
        },
        // received the next day; a few arrive late, in the digest's period
        receivedAt:
          k % 25 === 0 && d < DAYS - 2
            ? new Date(NOW.getTime() - 3_600_000 + k)
            : new Date(Date.parse(`${addDays(day, 1)}T01:00:00Z`) + k * 60_000),
      });
    }
  }
  return generated;
}

const identify: Identify = async (ip) =>
  Number(ip.split('.')[3]) % 7 === 0
    ? { ...bareIdentity(ip), key: 'AS64500', name: 'AS64500 Net', by: 'asn', asn: 64500 }
    : bareIdentity(ip);

async function storeOf(generated: Generated[]): Promise<ReportStore> {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-exact-'));
  dirs.push(dir);
  const store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`, {
    limits: { maxPendingReports: 500, maxPendingDocs: 5000 },
  });
  for (const { report, receivedAt } of generated) await store.ingest(report, 'test', receivedAt);
  await store.flush();
  return store;
}

describe.each([100, 200])('answers from day summaries at %i reports a day', (perDay) => {
  const generated = month(perDay, perDay);
  let store: ReportStore;

  it('summary and date count what the reports hold', { timeout: 120_000 }, async () => {
    store = await storeOf(generated);
    const totals = { messages: 0, dmarcPass: 0, ips: new Set<string>() };
    for (const { report } of generated)
      for (const row of report.records) {
        totals.messages += row.count;
        if (row.dmarc === 'pass') totals.dmarcPass += row.count;
        totals.ips.add(row.sourceIp);
      }
    const result = await querySummary(store, DAYS + 1, NOW);
    expect(result.domains).toHaveLength(1);
    expect(result.domains[0]).toMatchObject({
      messages: totals.messages,
      dmarcPass: totals.dmarcPass,
      reports: generated.length,
      sources: totals.ips.size,
      daysWithReports: DAYS,
    });

    // the first day: its own reports, and its share of those running noon to noon
    const day = FIRST;
    const ofDay = generated.filter(({ report }) => report.begin.startsWith(day));
    const date = await queryDate(store, day, identify, { now: NOW });
    const count = (pass: boolean | null) =>
      ofDay.reduce((sum, { report }) => {
        const shares = attributionDays(report.begin, report.end);
        const at = shares.findIndex((share) => share.date === day);
        return (
          sum +
          report.records
            .filter((row) => pass === null || (row.dmarc === 'pass') === pass)
            .reduce(
              (s, row) =>
                s +
                apportion(
                  row.count,
                  shares.map((share) => share.seconds),
                )[at]!,
              0,
            )
        );
      }, 0);
    expect(date.domains[0]).toMatchObject({ messages: count(null), dmarcPass: count(true) });
    expect(date.reports).toBe(ofDay.length);
  });

  it('ready, sources and the digest equal those computed from the report parts', { timeout: 120_000 }, async () => {
    const { window, docs, marks, identities } = await readinessWindow(store);
    const [ready] = await queryReady(store, identify, DOMAIN, DEFAULT_THRESHOLDS, NOW);
    expect(ready).toEqual(
      readiness({ domain: DOMAIN, days: docs, identities, marks, thresholds: DEFAULT_THRESHOLDS, window }),
    );
    // the digest's outline: the same verdict and blockers, the spoofing totals of the list
    const { sources: list, ...rest } = ready!;
    const spoofers = list.filter((source) => source.class === 'spoofing');
    expect(
      readinessOutline({ domain: DOMAIN, days: docs, identities, marks, thresholds: DEFAULT_THRESHOLDS, window }),
    ).toEqual({
      ...rest,
      spoofing: {
        sources: spoofers.reduce((sum, source) => sum + source.ipCount, 0),
        messages: spoofers.reduce((sum, source) => sum + source.messages, 0),
      },
    });
    expect(await querySources(store, identify, DEFAULT_THRESHOLDS.windowDays, NOW, { limit: 50 })).toEqual(
      sources({ days: docs, identities, marks, window, limit: 50 }),
    );

    // the digest of the last hours, as computed from whole day documents
    const since = new Date(NOW.getTime() - 6 * 3_600_000);
    const digest = await queryDigest(store, identify, { since, until: NOW, now: NOW });
    const log = await store.ingestedSince(since.toISOString());
    const periodKeys = new Set(log.map((entry) => entry.reportKey));
    const sinceDay = since.toISOString().slice(0, 10);
    const previousWindow = { from: addDays(sinceDay, -7), to: addDays(sinceDay, -1) };
    const all = await store.days(DOMAIN, addDays(FIRST, -1), addDays(LAST, 1));
    const firstSeen = newIpsByDomain(
      all,
      (key) => periodKeys.has(key),
      (key) => !periodKeys.has(key),
    );
    const expected = digestData({
      since: since.toISOString(),
      until: NOW.toISOString(),
      ingested: log,
      newDays: all.filter((doc) => Object.keys(doc.reports).some((key) => periodKeys.has(key))),
      previousDays: all.filter((doc) => doc.date >= previousWindow.from && doc.date <= previousWindow.to),
      firstSeenIps: firstSeen,
      failures: [],
      tls: [],
      readinessByDomain: { [DOMAIN]: ready! },
      classes: classifyIps({
        days: docs,
        identities,
        marks,
        window,
        domains: [DOMAIN],
        thresholds: DEFAULT_THRESHOLDS,
      }),
      identities,
    });
    expect(digest.domains[0]!.reports).toBeGreaterThan(0);
    expect(digest.domains[0]!.previousPassRate).not.toBeNull();
    expect(digest).toEqual(expected);
  });

  // Days that only the period's reports touched are read from their summaries, the others from
  // their day documents: the last day's reports (some days whole), and every report (all whole).
  it.each([
    ['the last day', 24],
    ['every report', 24 * (DAYS + 2)],
  ])('the digest of %s counts what its reports hold', { timeout: 120_000 }, async (_, hours) => {
    const since = new Date(NOW.getTime() - hours * 3_600_000);
    const digest = await queryDigest(store, identify, { since, until: NOW, now: NOW, limit: 10_000 });
    const period = generated.filter(({ receivedAt }) => receivedAt >= since && receivedAt < NOW);
    const earlier = generated.filter(({ receivedAt }) => receivedAt < since);
    const seen = new Set(earlier.flatMap(({ report }) => report.records.map((row) => row.sourceIp)));
    const byIp = new Map<string, { messages: number; dmarcPass: number }>();
    const reporters = new Map<string, number>();
    for (const { report } of period)
      for (const row of report.records) {
        const ip = byIp.get(row.sourceIp) ?? { messages: 0, dmarcPass: 0 };
        ip.messages += row.count;
        if (row.dmarc === 'pass') ip.dmarcPass += row.count;
        byIp.set(row.sourceIp, ip);
        reporters.set(report.orgName, (reporters.get(report.orgName) ?? 0) + row.count);
      }
    const sum = (pick: (ip: { messages: number; dmarcPass: number }) => number) =>
      [...byIp.values()].reduce((total, ip) => total + pick(ip), 0);
    const fresh = [...byIp.keys()].filter((ip) => !seen.has(ip));
    const failing = [...byIp.values()].filter((ip) => ip.messages > ip.dmarcPass);
    expect(digest.received.aggregate).toBe(period.length);
    expect(digest.domains).toHaveLength(1);
    const domain = digest.domains[0]!;
    expect(domain).toMatchObject({
      reports: period.length,
      messages: sum((ip) => ip.messages),
      dmarcPass: sum((ip) => ip.dmarcPass),
      newSourcesTotal: { count: fresh.length, messages: fresh.reduce((t, ip) => t + byIp.get(ip)!.messages, 0) },
      failingSourcesTotal: {
        count: failing.length,
        messages: failing.reduce((t, ip) => t + ip.messages - ip.dmarcPass, 0),
      },
    });
    expect(new Map(domain.reporters.map((row) => [row.key, row.messages]))).toEqual(reporters);
    expect(new Set(domain.newSources.map((source) => source.ip))).toEqual(new Set(fresh));
    for (const source of [...domain.newSources, ...domain.failingSources])
      expect(source).toMatchObject({
        messages: byIp.get(source.ip)!.messages,
        dmarcPass: byIp.get(source.ip)!.dmarcPass,
      });
    expect(digest).toEqual(await digestFromDocuments(store, since, 10_000));
  });

  it('closes the store', async () => {
    await store.close();
  });
});

/** The readiness window's day documents, marks and identities, read straight from the store. */
async function readinessWindow(store: ReportStore) {
  const window = windowEnding(NOW, DEFAULT_THRESHOLDS.windowDays);
  const docs = await store.days(DOMAIN, window.from, window.to);
  const marks = await store.marks();
  const identities = Object.fromEntries(
    await Promise.all(
      docs.flatMap((doc) =>
        Object.values(doc.reports).flatMap((part) =>
          part.sources.map(async (s) => [s.ip, await identify(s.ip)] as const),
        ),
      ),
    ),
  );
  return { window, docs, marks, identities };
}

/** The digest as computed from whole day documents (the earlier read path), for the domain of the store. */
async function digestFromDocuments(store: ReportStore, since: Date, limit: number) {
  const { window, docs, marks, identities } = await readinessWindow(store);
  const ready = readiness({ domain: DOMAIN, days: docs, identities, marks, thresholds: DEFAULT_THRESHOLDS, window });
  const log = await store.ingestedSince(since.toISOString());
  const periodKeys = new Set(log.map((entry) => entry.reportKey));
  const sinceDay = since.toISOString().slice(0, 10);
  const previousWindow = { from: addDays(sinceDay, -7), to: addDays(sinceDay, -1) };
  const all = await store.days(DOMAIN, addDays(FIRST, -1), addDays(LAST, 1));
  return digestData({
    since: since.toISOString(),
    until: NOW.toISOString(),
    ingested: log,
    newDays: all.filter((doc) => Object.keys(doc.reports).some((key) => periodKeys.has(key))),
    previousDays: all.filter((doc) => doc.date >= previousWindow.from && doc.date <= previousWindow.to),
    firstSeenIps: newIpsByDomain(
      all,
      (key) => periodKeys.has(key),
      (key) => !periodKeys.has(key),
    ),
    failures: [],
    tls: [],
    readinessByDomain: { [DOMAIN]: ready },
    classes: classifyIps({ days: docs, identities, marks, window, domains: [DOMAIN], thresholds: DEFAULT_THRESHOLDS }),
    identities,
    limit,
  });
}
