// The offline identities kept per stored day between processes (src/senders/identity-cache.ts): a
// fresh identifier (as a new process has) reads them instead of identifying the window again, and
// gets what identification gives; an entry of another scope, of a day that has changed since, or a
// corrupt one is not used. Over a real SQLite store holding a generated month.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exampleMonth } from '../../src/generate/index.ts';
import { identifyDays, queryReady } from '../../src/insight/queries.ts';
import type { Identify, SenderIdentity } from '../../src/insight/types.ts';
import { DEFAULT_THRESHOLDS } from '../../src/insight/readiness.ts';
import { addDays } from '../../src/insight/stats.ts';
import type { AggregateReport } from '../../src/model.ts';
import { noDns } from '../../src/net/dns.ts';
import { defaultAsnLookup, type AsnLookup } from '../../src/senders/asn.ts';
import { createIdentify } from '../../src/senders/identify.ts';
import { openStore } from '../../src/store/index.ts';
import { summaryRows } from '../../src/store/summary.ts';
import type { ReportStore } from '../../src/store/types.ts';

const domain = 'example.com';
const endDay = '2026-01-31';
const now = new Date(`${endDay}T23:00:00Z`);
const from = '2026-01-02';
const receivedAt = (report: AggregateReport) => new Date(Date.parse(report.end) + 2 * 3_600_000);

let dir: string;
let store: ReportStore;
let reports: AggregateReport[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'identity-cache-'));
  store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
  ({ reports } = exampleMonth({ domain, endDay, days: 30, seed: 11 }));
  for (const report of reports) await store.ingest(report, 'generated', receivedAt(report));
  await store.flush();
});

afterEach(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cacheDir = () => join(dir, 'cache');

/** A fresh identifier, as a new process makes one; with the day cache when `scope` is given. */
function identifier(scope?: string, asn: AsnLookup = defaultAsnLookup()): Identify {
  return createIdentify({
    store,
    reverse: noDns.reverse,
    resolve: noDns.resolve,
    timeoutMs: noDns.timeoutMs,
    asn,
    cache: scope === undefined ? undefined : { scope, dir: cacheDir() },
  });
}

async function identities(identify: Identify, first = from, last = endDay): Promise<Record<string, SenderIdentity>> {
  const days = await store.summaries(domain, first, last);
  const record = await identifyDays(identify, days, { dns: false });
  return Object.fromEntries(Object.keys(record).map((ip) => [ip, { ...record[ip]! }]));
}

const entryFiles = () => {
  const [scopeDir] = readdirSync(join(cacheDir(), 'identities'));
  return readdirSync(join(cacheDir(), 'identities', scopeDir!)).map((name) =>
    join(cacheDir(), 'identities', scopeDir!, name),
  );
};

/** Renames every identity of one day's entry: shows whether a later identification read it. */
function markEntry(file: string): void {
  const entry = JSON.parse(readFileSync(file, 'utf8')) as { identities: unknown[][] };
  for (const identity of entry.identities) identity[5] = 'from the cache';
  writeFileSync(file, JSON.stringify(entry));
}

const fromCache = (found: Record<string, SenderIdentity>) =>
  Object.values(found).filter((identity) => identity.name === 'from the cache').length;

describe('offline identities kept per stored day', () => {
  it('writes an entry per day, and a fresh identifier reading them gets what identification gives', async () => {
    const uncached = await identities(identifier());
    expect(Object.keys(uncached).length).toBeGreaterThan(10);
    const writing = await identities(identifier('store A'));
    const days = await store.summaries(domain, from, endDay);
    expect(entryFiles()).toHaveLength(days.length);
    const reading = await identities(identifier('store A'));
    expect(writing).toEqual(uncached);
    expect(reading).toEqual(uncached);
    // the answer too, key for key
    const plain = await queryReady(store, identifier(), domain, DEFAULT_THRESHOLDS, now);
    const cached = await queryReady(store, identifier('store A'), domain, DEFAULT_THRESHOLDS, now);
    expect(JSON.stringify(cached)).toBe(JSON.stringify(plain));
  });

  it('uses an entry only for the day it was made from', async () => {
    await identities(identifier('store A'));
    for (const file of entryFiles()) markEntry(file);
    // read: the marked names are what the entries hold
    const marked = await identities(identifier('store A'));
    expect(fromCache(marked)).toBe(Object.keys(marked).length);

    const ipsOf = async (day: string) => (await store.summaries(domain, day, day)).flatMap((d) => summaryRows(d).ips);
    const lastIps = await ipsOf(endDay);
    // the last day's summary changes, with the same IPs and strings: one of its own reports
    // again under another report id
    const again = reports.find((report) => report.begin.startsWith(endDay) && report.end.startsWith(endDay))!;
    await store.ingest({ ...again, reportId: `${again.reportId}-again` }, 'generated', now);
    await store.flush();
    expect(await ipsOf(endDay)).toEqual(lastIps);
    const uncached = await identities(identifier(), endDay, endDay);
    expect(await identities(identifier('store A'), endDay, endDay)).toEqual(uncached);
    // the day before's entry still is used
    const before = await identities(identifier('store A'), addDays(endDay, -1), addDays(endDay, -1));
    expect(fromCache(before)).toBe(Object.keys(before).length);
  });

  it('does not use an entry of another scope (store, program, range data)', async () => {
    await identities(identifier('store A'));
    for (const file of entryFiles()) markEntry(file);
    const uncached = await identities(identifier());
    expect(await identities(identifier('store B'))).toEqual(uncached);
    const asn = defaultAsnLookup();
    const otherData: AsnLookup = Object.assign((ip: string) => asn(ip), {
      ipv4: asn.ipv4,
      version: () => `${asn.version!()} (updated)`,
    });
    expect(await identities(identifier('store A', otherData))).toEqual(uncached);
    // and the marked entries are still those of their own scope
    expect(fromCache(await identities(identifier('store A')))).toBeGreaterThan(0);
  });

  it('ignores a corrupt or torn entry and writes it again', async () => {
    await identities(identifier('store A'));
    const files = entryFiles();
    const [torn, wrongRow, wrongType] = files;
    writeFileSync(torn!, readFileSync(torn!, 'utf8').slice(0, 200));
    const entry = JSON.parse(readFileSync(wrongRow!, 'utf8')) as { rows: unknown[]; identities: unknown[][] };
    entry.rows[0] = entry.identities.length;
    writeFileSync(wrongRow!, JSON.stringify(entry));
    const typed = JSON.parse(readFileSync(wrongType!, 'utf8')) as { identities: unknown[][] };
    typed.identities[0]![6] = 'guess';
    writeFileSync(wrongType!, JSON.stringify(typed));
    const uncached = await identities(identifier());
    expect(await identities(identifier('store A'))).toEqual(uncached);
    for (const file of [torn, wrongRow, wrongType]) markEntry(file!);
    expect(fromCache(await identities(identifier('store A')))).toBeGreaterThan(0);
  });

  it('removes entries and other scopes not written for 30 days, once it writes', async () => {
    await identities(identifier('store A'));
    const [old, torn] = entryFiles();
    const long = new Date(Date.now() - 40 * 24 * 3_600_000);
    utimesSync(old!, long, long);
    const oldScope = join(cacheDir(), 'identities', '00000000');
    const recentScope = join(cacheDir(), 'identities', '11111111');
    for (const folder of [oldScope, recentScope]) {
      mkdirSync(folder);
      writeFileSync(join(folder, 'example.com_2025-01-01.json'), '{}');
    }
    utimesSync(oldScope, long, long);
    // nothing is pruned by a process that only reads
    await identities(identifier('store A'));
    expect(existsSync(old!)).toBe(true);
    expect(existsSync(oldScope)).toBe(true);
    // a torn entry is written again, and the write prunes
    writeFileSync(torn!, '{');
    await identities(identifier('store A'));
    expect(existsSync(old!)).toBe(false);
    expect(existsSync(oldScope)).toBe(false);
    expect(existsSync(recentScope)).toBe(true);
    expect(JSON.parse(readFileSync(torn!, 'utf8'))).toMatchObject({ format: 1 });
  });
});
