// Store-facing loaders: read what a question needs from the store, identify the IPs, and hand the
// documents to the pure insight functions. The loaders also work out what a question covers: which
// reports fall in a digest's period, which day ranges to read, the hints for identification.

import ipaddr from 'ipaddr.js';
import type { DayDoc, IpEntry, ReportStore, SourceStat } from '../store/types.ts';
import {
  pairKey,
  pairOffsets,
  ROW_MAPS,
  summaryRows,
  type DayData,
  type DaySummary,
  type StoredDaySummary,
} from '../store/summary.ts';
import type {
  DateInsight,
  DayWindow,
  DigestData,
  Identify,
  IdentifyHints,
  IpInsight,
  Readiness,
  ReadinessThresholds,
  SenderIdentity,
  SourceClass,
  SourcesInsight,
  Summary,
} from './types.ts';
import { classifyWindow, IpClassView, type ClassifiedGroup } from './classify.ts';
import { markLookup } from './marks.ts';
import { classifySome, SomeClasses } from './classify-some.ts';
import { KeyColumns, type RowKeys } from './row-keys.ts';
import { dateInsight } from './date.ts';
import { digestData, newIpsAgainstSummaries } from './digest.ts';
import { ipInsight } from './ip.ts';
import { DEFAULT_THRESHOLDS, readiness, readinessOutline, type ReadinessOutline } from './readiness.ts';
import { authKeyParts, addDays, inWindow, utcDay, windowEnding } from './stats.ts';
import { sources, summary } from './summary.ts';
import { dict, own } from '../store/dict.ts';
import { identityRecord, ipIds, setIdentity } from './ip-ids.ts';

/** Reports' DKIM d= and SPF domains of a source, which help recognise a service without DNS. */
export function identifyHints(stats: Iterable<Pick<SourceStat, 'dkim' | 'spf'>>): IdentifyHints {
  const dkim = new Set<string>();
  const spf = new Set<string>();
  for (const stat of stats) {
    for (const key in stat.dkim) dkim.add(authKeyParts(key).domain);
    for (const key in stat.spf) spf.add(authKeyParts(key).domain);
  }
  dkim.delete('');
  spf.delete('');
  return { dkimDomains: [...dkim].sort(), spfDomains: [...spf].sort() };
}

/** identifyHints of one stored summary row, without sets or maps: called for every IP of a busy month. */
function rowHints(stored: StoredDaySummary, row: number): IdentifyHints {
  const { keys, pairs } = stored;
  const starts = pairOffsets(stored);
  const dkimDomains: string[] = [];
  const spfDomains: string[] = [];
  for (let at = starts[row]!; at < starts[row + 1]!; at += 2) {
    const code = pairKey(pairs[at], keys.length);
    if (code < 0) continue;
    const map = code % ROW_MAPS.length;
    const list = map === DKIM_MAP ? dkimDomains : map === SPF_MAP ? spfDomains : null;
    if (!list) continue;
    const key = String(keys[(code / ROW_MAPS.length) | 0]);
    const space = key.indexOf(' ');
    const domain = space < 0 ? key : key.slice(0, space);
    if (domain && !list.includes(domain)) list.push(domain);
  }
  return { dkimDomains, spfDomains };
}
const DKIM_MAP = ROW_MAPS.indexOf('dkim');
const SPF_MAP = ROW_MAPS.indexOf('spf');

const IDENTIFY_CONCURRENCY = 512;

/** Milliseconds per phase (read, identify, compute, ...), for the benchmark's "where the time goes". */
export type Timings = Record<string, number>;

async function timed<T>(timings: Timings | undefined, phase: string, run: () => Promise<T>): Promise<T> {
  if (!timings) return run();
  const start = performance.now();
  try {
    return await run();
  } finally {
    timings[phase] = (timings[phase] ?? 0) + performance.now() - start;
  }
}

/**
 * Offline identities this process has already worked out, per identify function. A busy month has
 * ~20,000 IPs and `ready`, `sources` and the digest ask about the same ones again and again. An
 * offline identity changes only when a DNS lookup teaches the identifier a PTR name, and every DNS
 * lookup made here replaces the remembered entry.
 */
const offlineIdentities = new WeakMap<Identify, Map<string, SenderIdentity>>();
const OFFLINE_MEMO_LIMIT = 100_000;

function memoOf(identify: Identify): Map<string, SenderIdentity> {
  let memo = offlineIdentities.get(identify);
  if (!memo) offlineIdentities.set(identify, (memo = new Map()));
  return memo;
}

/** The memo's identity keys of stored rows, as numbers (row-keys.ts), per identify function. */
const keyColumns = new WeakMap<Identify, KeyColumns>();

function keyColumnsOf(identify: Identify): KeyColumns {
  let columns = keyColumns.get(identify);
  if (!columns) keyColumns.set(identify, (columns = new KeyColumns()));
  return columns;
}

/**
 * The memo's identities by IP id (ip-ids.ts), for the window queries: a cache of the memo, written
 * through by remember, that is read by one array read per row instead of a lookup by IP text.
 */
const memoIds = new WeakMap<Identify, { generation: number; byId: Array<SenderIdentity | undefined> }>();

/** memoIds of an identify function, as long as the ids given so far (read it after the query's columns). */
function memoById(identify: Identify): Array<SenderIdentity | undefined> {
  let entry = memoIds.get(identify);
  if (!entry || entry.generation !== ipIds.generation)
    memoIds.set(identify, (entry = { generation: ipIds.generation, byId: [] }));
  const { byId } = entry;
  // pushed, not written past the end: the array stays a fast one (the size read once: this runs
  // 20-30k times before the JIT has compiled anything)
  for (let size = ipIds.size; byId.length < size;) byId.push(undefined);
  return byId;
}

/** `absent`: the caller has just found the memo without this IP (no second lookup); `id`: its IP id. */
function remember(identify: Identify, ip: string, identity: SenderIdentity, absent = false, id?: number): void {
  const memo = memoOf(identify);
  if (memo.size >= OFFLINE_MEMO_LIMIT) {
    memo.clear();
    memoIds.delete(identify);
    keyColumns.get(identify)?.invalidate();
  } else if (!absent) {
    const before = memo.get(ip);
    if (before && before.key !== identity.key) keyColumns.get(identify)?.invalidate();
  }
  memo.set(ip, identity);
  const entry = memoIds.get(identify);
  if (entry && entry.generation === ipIds.generation) {
    const at = id ?? ipIds.id(ip);
    if (at !== undefined && at < entry.byId.length) entry.byId[at] = identity;
  }
}

/**
 * A copy of an identity built property by property, so that identities with the same keys share
 * one hidden class. identify's spread objects each get a class of their own: with 20-30k of them,
 * every read of a field of a busy month's sender groups became a slow generic lookup.
 */
function sharedShape(identity: SenderIdentity): SenderIdentity {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(identity)) copy[key] = (identity as unknown as Record<string, unknown>)[key];
  return copy as unknown as SenderIdentity;
}

/**
 * Identifies every source IP of the day documents (hints from the first record seen of each IP).
 * The identities are also kept by IP id beside the record (identitiesById): change the record
 * only through setIdentity.
 */
export async function identifyDays(
  identify: Identify,
  days: readonly DayData[],
  options: {
    dns: boolean;
    only?: ReadonlySet<string>;
    /** identifyDays' offline identities of the same days, handed to identify as its offline answer */
    offline?: Record<string, SenderIdentity>;
  } = { dns: false },
): Promise<Record<string, SenderIdentity>> {
  const memo = memoOf(identify);
  // the IPs identified, in the order the record lists them, and their ids
  const order: string[] = [];
  const orderIds: number[] = [];
  ipIds.begin();
  const columns = ipIds.columnsOf(days);
  const generation = ipIds.generation;
  const byId = new Array<SenderIdentity | undefined>();
  for (let size = ipIds.size; byId.length < size;) byId.push(undefined);
  let memoed = memoById(identify);
  // the IPs met so far, by id (identified, or waiting for it)
  const met = new Uint8Array(ipIds.size);
  // IPs not remembered, with their id and the row (and its day's string table) of the first record seen
  const unknown = new Map<string, { id: number; stored: StoredDaySummary; row: number }>();
  let seen = 0;
  const memoWasEmpty = memo.size === 0;
  // offline and synchronous when the identifier can: no promise per IP
  const offline = options.dns ? undefined : identify.offline;
  // a whole window's offline identities, kept per day between processes: each day's from its
  // entry, else worked out (every row of such a day, for its entry, once the scan is done)
  // (a process that has identified before has them in its memo)
  const cache = offline && !options.only && memoWasEmpty ? (identify.offlineCache?.() ?? null) : null;
  const cachedDays = cache ? days.map((day) => cache.read(summaryRows(day))) : null;
  const missing = cachedDays ? cachedDays.map((cached) => (cached ? null : new Array<SenderIdentity>())) : null;
  scan: for (let d = 0; d < days.length; d++) {
    const stored = summaryRows(days[d]!);
    const column = columns[d]!;
    const cached = cachedDays?.[d];
    const uncached = missing?.[d];
    for (let row = 0; row < column.length; row++) {
      const id = column[row]!;
      if (met[id] === 1) continue;
      const ip = String(stored.ips[row]);
      if (options.only && !options.only.has(ip)) continue;
      met[id] = 1;
      seen += 1;
      let known: SenderIdentity | undefined;
      if (!options.dns) {
        known = memoed[id];
        // a cold start's memo is empty: no lookup of 20-30k IPs that cannot be there (the memo
        // grows here only by IPs this scan has already met)
        if (!known && !memoWasEmpty && (known = memo.get(ip))) memoed[id] = known;
      }
      if (known) {
        byId[id] = known;
        order.push(ip);
        orderIds.push(id);
      } else if (offline) {
        // the offline identities are built by one literal already (one hidden class)
        const identity = cached ? cached(row) : offline(ip, rowHints(stored, row));
        if (uncached) uncached[row] = identity;
        byId[id] = identity;
        order.push(ip);
        orderIds.push(id);
        remember(identify, ip, identity, true, id);
        // the memo was let go at its limit: so were its identities by id
        if (memoIds.get(identify)?.byId !== memoed) memoed = memoById(identify);
      } else unknown.set(ip, { id, stored, row });
      // the few IPs asked about are found among the first rows (they are the largest senders)
      if (options.only && seen === options.only.size) break scan;
    }
  }
  if (cache && missing) {
    for (let d = 0; d < days.length; d++) {
      const rows = missing[d];
      if (!rows) continue;
      const stored = summaryRows(days[d]!);
      for (let row = 0; row < stored.ips.length; row++)
        rows[row] ??= offline!(String(stored.ips[row]), rowHints(stored, row));
      cache.write(stored, rows);
    }
  }
  const ips = [...unknown.keys()];
  for (let start = 0; start < ips.length; start += IDENTIFY_CONCURRENCY) {
    const chunk = ips.slice(start, start + IDENTIFY_CONCURRENCY);
    const found = await Promise.all(
      chunk.map((ip) => {
        const first = unknown.get(ip)!;
        const offlineIdentity = options.offline && madeOffline.has(options.offline) ? options.offline[ip] : undefined;
        return identify(ip, rowHints(first.stored, first.row), { dns: options.dns, offline: offlineIdentity });
      }),
    );
    chunk.forEach((ip, index) => {
      const identity = sharedShape(found[index]!);
      const { id } = unknown.get(ip)!;
      byId[id] = identity;
      order.push(ip);
      orderIds.push(id);
      remember(identify, ip, identity);
    });
  }
  const record = identityRecord(order, orderIds, byId, generation);
  if (!options.dns && !options.only && memoWasEmpty && offline) madeOffline.add(record);
  return record;
}

/**
 * identifyDays' records whose every identity is identify.offline's for its IP's first row (none came
 * from the memo, whose identities may have been made with another window's rows).
 */
const madeOffline = new WeakSet<Record<string, SenderIdentity>>();

/** How a query looks the window's identities up: by row, and as key columns when it can. */
interface WindowIdentities {
  identityOf: (ip: string, day: StoredDaySummary, row: number) => SenderIdentity | undefined;
  rowKeys?: RowKeys;
}

/**
 * identifyDays' offline identity of one IP of the window, looked up when asked: the memo, else
 * identify.offline (remembered); an identifier without it identifies the whole window first.
 * `override` gives some IPs another identity (one the memo holds too).
 */
async function windowIdentities(
  identify: Identify,
  days: readonly DayData[],
  override?: { ip: string; identity: SenderIdentity },
): Promise<WindowIdentities> {
  const offline = identify.offline;
  if (!offline) {
    const identities = await identifyDays(identify, days, { dns: false });
    const identityOf = (ip: string) => (ip === override?.ip ? override.identity : identities[ip]);
    return { identityOf };
  }
  const memo = memoOf(identify);
  const identityOf = (ip: string, day: StoredDaySummary, row: number) => {
    if (ip === override?.ip) return override.identity;
    let identity = memo.get(ip);
    if (!identity) remember(identify, ip, (identity = offline(ip, rowHints(day, row))));
    return identity;
  };
  const known = (ip: string) => (ip === override?.ip ? override.identity : memo.get(ip));
  return { identityOf, rowKeys: keyColumnsOf(identify).of(identityOf, known) };
}

/** The canonical text of an address (as the store keys it); input that is no address stays as given. */
export function canonicalIp(ip: string): string {
  const text = ip.trim();
  return ipaddr.isValid(text) ? ipaddr.process(text).toString() : text;
}

export async function queryIp(
  store: ReportStore,
  identify: Identify,
  address: string,
  options: { days: number; now: Date; thresholds?: ReadinessThresholds },
): Promise<IpInsight> {
  const ip = canonicalIp(address);
  const window = windowEnding(options.now, options.days);
  const [entries, marks] = await Promise.all([store.ipEntries(ip, window.from, window.to), store.marks()]);
  const inside: IpEntry[] = entries.filter((entry) => inWindow(entry.date, window));
  const identity = await identify(ip, identifyHints(inside), { dns: true });
  remember(identify, ip, identity);
  // The class comes from the IP's sender group in its main domain, over the readiness window, as
  // `ready` computes it.
  const byDomain = new Map<string, number>();
  for (const entry of inside) byDomain.set(entry.domain, (byDomain.get(entry.domain) ?? 0) + entry.messages);
  const mainDomain = [...byDomain.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  let sourceClass: SourceClass | null = null;
  if (mainDomain) {
    const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
    const classWindow = windowEnding(options.now, thresholds.windowDays);
    const days = await store.summaries(mainDomain, classWindow.from, classWindow.to);
    const { identityOf, rowKeys } = await windowIdentities(identify, days, { ip, identity });
    const lookup = markLookup(marks);
    const input = {
      days,
      identityOf,
      rowKeys,
      marks: lookup,
      window: classWindow,
      domain: mainDomain,
      thresholds,
      ips: [ip],
    };
    sourceClass = classifySome(input).get(ip)?.class ?? null;
  }
  return ipInsight({ ip, entries: inside, identity, mark: marks, window, sourceClass });
}

/**
 * `date`: the day's documents; sources are named offline (one day's IPs) when `identify` is given,
 * and classed as `ready` classes them: over ready's window when the day is inside it (so both
 * name a source alike), else over the readiness window ending that day.
 */
export async function queryDate(
  store: ReportStore,
  date: string,
  identify?: Identify,
  options: { thresholds?: ReadinessThresholds; now?: Date } = {},
): Promise<DateInsight> {
  const days = await store.summaries(null, date, date);
  if (!identify) return dateInsight({ date, days, identities: {} });
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const readyWindow = options.now ? windowEnding(options.now, thresholds.windowDays) : null;
  const classWindow =
    readyWindow && inWindow(date, readyWindow)
      ? readyWindow
      : { from: addDays(date, -(thresholds.windowDays - 1)), to: date };
  const domains = [...new Set(days.map((doc) => doc.domain))];
  const [windowDays, marks] = await Promise.all([
    domains.length ? store.summaries(domains.length === 1 ? domains[0]! : null, classWindow.from, classWindow.to) : [],
    store.marks(),
  ]);
  // only the groups of the sources whose class is shown or ranks the list are classified (and of
  // the failing ones only those whose counters leave their rank open, classify-some.ts); each
  // domain's day IPs are named just before it is classified (dateInsight asks domain by domain),
  // the order in which they were always met
  const { identityOf, rowKeys } = await windowIdentities(identify, windowDays);
  // the day's identities per stored row (a record by IP of every row cost more than the rest)
  const dayIdentities = new Map<StoredDaySummary, Array<SenderIdentity | undefined>>();
  const lookup = markLookup(marks);
  const classes = (domain: string, failing: readonly string[], top: readonly string[]) => {
    for (const day of days.filter((doc) => doc.domain === domain)) {
      const stored = summaryRows(day);
      const named = new Array<SenderIdentity | undefined>(stored.ips.length);
      for (let row = 0; row < stored.ips.length; row++) named[row] = identityOf(String(stored.ips[row]), stored, row);
      dayIdentities.set(stored, named);
    }
    const input = { days: windowDays, identityOf, rowKeys, marks: lookup, window: classWindow, domain, thresholds };
    return new SomeClasses(input, [...new Set([...top, ...failing])]);
  };
  const identities = (ip: string, stored: StoredDaySummary, row: number) =>
    dayIdentities.get(stored)?.[row] ?? identityOf(ip, stored, row);
  return dateInsight({ date, days, identities, classes });
}

/** How many top IPs of blocker groups may be looked up in DNS (each lookup has its own timeout). */
const DNS_LOOKUPS_FOR_BLOCKERS = 8;

/**
 * `ready [domain]`: one Readiness per domain (every domain of the store when `domain` is null).
 * Every IP is identified offline; then the top IPs of blocker groups that are known only by IP or
 * network are looked up with DNS, and the verdict is computed again with what that found.
 */
export async function queryReady(
  store: ReportStore,
  identify: Identify,
  domain: string | null,
  thresholds: ReadinessThresholds = DEFAULT_THRESHOLDS,
  now: Date = new Date(),
  /** optional: filled with the milliseconds spent reading, identifying and computing */
  timings?: Timings,
): Promise<Readiness[]> {
  const window = windowEnding(now, thresholds.windowDays);
  const [days, marks, allDomains] = await timed(timings, 'read', () =>
    Promise.all([
      store.summaries(domain, window.from, window.to),
      store.marks(),
      domain ? Promise.resolve([domain]) : store.domains(),
    ]),
  );
  const identities = await timed(timings, 'identify', () => identifyDays(identify, days, { dns: false }));
  const run = () =>
    timed(timings, 'compute', async () =>
      allDomains.map((name) => readiness({ domain: name, days, identities, marks, thresholds, window })),
    );
  let results = await run();

  const lookups: string[] = [];
  for (const result of results) {
    for (const blocker of result.blockers) {
      for (const ip of blocker.ips.slice(0, 2)) {
        const identity = own(identities, ip);
        if (
          lookups.length < DNS_LOOKUPS_FOR_BLOCKERS &&
          identity &&
          (identity.by === 'ip' || identity.by === 'asn') &&
          !lookups.includes(ip)
        )
          lookups.push(ip);
      }
    }
  }
  if (lookups.length > 0) {
    const refined = await identifyDays(identify, days, { dns: true, only: new Set(lookups), offline: identities });
    let changed = false;
    for (const ip of lookups) {
      const identity = refined[ip];
      if (identity && (identity.key !== identities[ip]?.key || identity.name !== identities[ip]?.name)) {
        setIdentity(identities, ip, identity);
        changed = true;
      }
    }
    if (changed) results = await run();
  }
  return results;
}

export async function querySummary(store: ReportStore, days: number, now: Date): Promise<Summary> {
  const window = windowEnding(now, days);
  return summary({ days: await store.summaries(null, window.from, window.to), window });
}

export async function querySources(
  store: ReportStore,
  identify: Identify,
  days: number,
  now: Date,
  options: { limit?: number; domain?: string | null; thresholds?: ReadinessThresholds } = {},
): Promise<SourcesInsight> {
  const window = windowEnding(now, days);
  const [docs, marks] = await Promise.all([
    store.summaries(options.domain ?? null, window.from, window.to),
    store.marks(),
  ]);
  const identities = await identifyDays(identify, docs, { dns: false });
  return sources({
    days: docs,
    identities,
    marks,
    window,
    limit: options.limit ?? 20,
    domain: options.domain ?? null,
    thresholds: options.thresholds ?? DEFAULT_THRESHOLDS,
  });
}

/** Sorted runs of consecutive UTC days, as ranges. */
function dayRuns(days: string[]): DayWindow[] {
  const runs: DayWindow[] = [];
  for (const day of [...days].sort()) {
    const last = runs[runs.length - 1];
    if (last && addDays(last.to, 1) === day) last.to = day;
    else runs.push({ from: day, to: day });
  }
  return runs;
}

/**
 * The summaries of the days the period's aggregate reports touched, split into the days whose
 * every report part is of the period (`whole`) and those that also hold parts of other reports.
 * A part is of the period as digestData counts it: its report is in the period's log, or it was
 * ingested in [since, until).
 */
function periodDaysOf(
  summaries: readonly DaySummary[],
  touched: ReadonlySet<string>,
  periodKeys: ReadonlySet<string>,
  since: Date,
  until: Date,
): { whole: DaySummary[]; mixed: DaySummary[] } {
  const whole: DaySummary[] = [];
  const mixed: DaySummary[] = [];
  const from = since.getTime();
  const to = until.getTime();
  for (const day of summaries) {
    if (!touched.has(day.date) || !day.reports.some((head) => periodKeys.has(head.reportKey))) continue;
    const all = day.reports.every((head) => {
      if (periodKeys.has(head.reportKey)) return true;
      const time = Date.parse(head.ingestedAt);
      return time >= from && time < to;
    });
    (all ? whole : mixed).push(day);
  }
  return { whole, mixed };
}

/** How far back the IP index is searched to decide that a source is seen for the first time. */
const FIRST_SEEN_LOOKBACK_DAYS = 180;
/** Above this many candidates per digest, first-seen relies on the loaded day documents only. */
const FIRST_SEEN_INDEX_LIMIT = 50;

/**
 * An IP is new for a domain when no report received before `since` has a row of it for that
 * domain. Candidates are first checked against the day summaries already loaded (about the
 * readiness window); the few that remain are checked in the IP index over a longer lookback.
 */
async function firstSeenIps(
  store: ReportStore,
  periodDays: readonly DayDoc[],
  periodSummaries: readonly DaySummary[],
  loaded: readonly DaySummary[],
  periodKeys: ReadonlySet<string>,
  sinceKeys: ReadonlySet<string>,
  since: Date,
): Promise<Record<string, string[]>> {
  const candidates = newIpsAgainstSummaries(
    periodDays,
    (reportKey) => periodKeys.has(reportKey),
    loaded,
    since.toISOString(),
    periodSummaries,
  );
  const pairs = Object.entries(candidates).flatMap(([domain, ips]) => ips.map((ip) => [domain, ip] as const));
  if (pairs.length === 0 || pairs.length > FIRST_SEEN_INDEX_LIMIT) return candidates;
  const to = utcDay(since);
  const from = addDays(to, -FIRST_SEEN_LOOKBACK_DAYS);
  const seenBefore = await Promise.all(
    pairs.map(async ([domain, ip]) =>
      (await store.ipEntries(ip, from, to)).some((entry) => entry.domain === domain && !sinceKeys.has(entry.reportKey)),
    ),
  );
  const result = dict<string[]>();
  pairs.forEach(([domain, ip], index) => {
    if (!seenBefore[index]) (result[domain] ??= []).push(ip);
  });
  return result;
}

/**
 * The digest of the reports received in [since, until). Readiness is computed at `now` over the
 * thresholds' window; the pass-rate baseline is the 7 UTC days before the day of `since`.
 */
export async function queryDigest(
  store: ReportStore,
  identify: Identify,
  options: {
    since: Date;
    until: Date;
    now: Date;
    thresholds?: ReadinessThresholds;
    /** sources listed per domain (default 5) */ limit?: number;
    timings?: Timings;
  },
): Promise<DigestData> {
  const timings = options.timings;
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const since = options.since.toISOString();
  const until = options.until.toISOString();
  const sinceLog = await timed(timings, 'read', () => store.ingestedSince(since));
  const sinceKeys = new Set(sinceLog.map((entry) => entry.reportKey));
  const ingested = sinceLog.filter((entry) => Date.parse(entry.ingestedAt) < options.until.getTime());
  const periodKeys = new Set(ingested.map((entry) => entry.reportKey));

  // Which days each kind of report touched, so one range read per kind covers them.
  const span = { aggregate: [] as string[], failure: [] as string[], tls: [] as string[] };
  const aggregateDomains = new Set<string>();
  for (const entry of ingested) {
    span[entry.kind].push(...entry.days);
    if (entry.kind === 'aggregate') for (const domain of entry.domains) aggregateDomains.add(domain);
  }
  const range = (days: string[]) =>
    days.length ? { from: days.reduce((a, b) => (a < b ? a : b)), to: days.reduce((a, b) => (a > b ? a : b)) } : null;

  // Day summaries: the readiness window and the 7 days before `since` in one read per domain,
  // plus the runs of older days that late reports of this period touched (see periodDaysOf for
  // the day documents).
  const readyWindow = windowEnding(options.now, thresholds.windowDays);
  const sinceDay = utcDay(options.since);
  const previousWindow = { from: addDays(sinceDay, -7), to: addDays(sinceDay, -1) };
  const main = {
    from: readyWindow.from < previousWindow.from ? readyWindow.from : previousWindow.from,
    to: readyWindow.to > previousWindow.to ? readyWindow.to : previousWindow.to,
  };
  const ranges = [main, ...dayRuns([...new Set(span.aggregate)].filter((day) => !inWindow(day, main)))];

  const failureRange = range(span.failure);
  const tlsRange = range(span.tls);
  const [loaded, marks, failures, tls] = await timed(timings, 'read', () =>
    Promise.all([
      Promise.all(
        [...aggregateDomains].flatMap((domain) => ranges.map((r) => store.summaries(domain, r.from, r.to))),
      ).then((lists) => lists.flat()),
      store.marks(),
      failureRange ? store.failures(null, failureRange.from, failureRange.to) : Promise.resolve([]),
      tlsRange ? store.tlsResults(null, tlsRange.from, tlsRange.to) : Promise.resolve([]),
    ]),
  );
  const days = loaded.filter((doc) => aggregateDomains.has(doc.domain));
  // A day that only this period's reports touched is read from its summary; the day document is
  // read only for a day that also holds parts of other reports (its figures are per part).
  const { whole, mixed } = periodDaysOf(days, new Set(span.aggregate), periodKeys, options.since, options.until);
  const mixedDocs = await timed(timings, 'read', () =>
    Promise.all(
      [...new Set(mixed.map((day) => day.domain))].flatMap((domain) =>
        dayRuns(mixed.filter((day) => day.domain === domain).map((day) => day.date)).map((r) =>
          store.days(domain, r.from, r.to),
        ),
      ),
    ).then((lists) => lists.flat()),
  );
  const identities = await timed(timings, 'identify', () => identifyDays(identify, days, { dns: false }));

  const readinessByDomain = dict<ReadinessOutline>();
  let classes: ReadonlyMap<string, ReadonlyMap<string, ClassifiedGroup>> = new Map();
  await timed(timings, 'readiness', async () => {
    // one grouping per domain serves both the verdict and the class of every IP
    const lookup = markLookup(marks);
    const byDomain = new Map<string, ReadonlyMap<string, ClassifiedGroup>>();
    for (const domain of aggregateDomains) {
      const classified = classifyWindow({ days, identities, marks: lookup, window: readyWindow, domain, thresholds });
      // the digest shows the verdict, the blockers and the spoofing totals, not every sender group
      readinessByDomain[domain] = readinessOutline({
        domain,
        days,
        identities,
        marks,
        thresholds,
        window: readyWindow,
        classified,
      });
      byDomain.set(domain, new IpClassView(classified));
    }
    classes = byDomain;
  });
  const newDays = mixedDocs.filter((doc) => Object.keys(doc.reports).some((key) => periodKeys.has(key)));
  const previousDays = days.filter((doc) => inWindow(doc.date, previousWindow));
  const firstSeen = await timed(timings, 'first-seen', () =>
    firstSeenIps(store, newDays, whole, days, periodKeys, sinceKeys, options.since),
  );

  return timed(timings, 'compute', async () =>
    digestData({
      since,
      until,
      ingested,
      newDays,
      newSummaries: whole,
      previousDays,
      firstSeenIps: firstSeen,
      failures,
      tls,
      readinessByDomain,
      classes,
      identities,
      limit: options.limit ?? 5,
    }),
  );
}
