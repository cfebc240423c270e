// The report store: a single writer with a write buffer over a keyv backend.
//
// ingest() applies a report's contributions to in-memory copies of the documents it touches
// (each loaded once per batch); flush() writes them in two steps: first every touched document and
// the catalog, then the reports' dedupe markers. A crash between or during the steps leaves no
// marker for a report whose documents may be partly written, so the next run applies it again,
// and because contributions overwrite under the report's own key, the totals come out the same.

import type { Logger } from '../log.ts';
import type { AggregateReport, FailureReport, Report, TlsReport } from '../model.ts';
import { LeaseLostError, type Backend } from './backend.ts';
import type {
  CatalogDoc,
  DayDoc,
  FailureDayDoc,
  IngestLogDoc,
  IngestLogEntry,
  IngestOutcome,
  IpBucketDoc,
  IpEntry,
  Mark,
  MarksDoc,
  ReportStore,
  StoredFailure,
  StoredDayDoc,
  StoredReport,
  StoredTlsPolicy,
  TlsDayDoc,
} from './types.ts';
import { unpackSource } from './source-rows.ts';
import {
  applyPatch,
  capText,
  contributionOf,
  documentKeysOf,
  emptyCatalog,
  extendCatalog,
  ipEntryOf,
  mergeCatalogs,
} from './contributions.ts';
import { own, toDict } from './dict.ts';
import { addDays, dayRange, monthOf, utcDay } from './days.ts';
import { IP_BUCKETS, docKeys, ipBucket, normaliseDomain, normaliseIp, reportKey } from './keys.ts';
import {
  DaySummaryBuilder,
  SUMMARY_VERSION,
  decodeSummary,
  encodeSummary,
  isStoredSummary,
  summariseDay,
  type DaySummary,
} from './summary.ts';

export interface StoreLimits {
  /** flush when this many reports wait in the buffer */
  maxPendingReports: number;
  /** flush when this many documents are touched */
  maxPendingDocs: number;
}

export interface StoreHooks {
  /** Test hook: runs after the documents of a flush are written and before its markers are. */
  afterDocsWritten?: () => void | Promise<void>;
  /** Called after each flush with what it wrote (benchmarks: writes per report). */
  afterFlush?: (info: { documents: number; reports: number; ms: number }) => void;
}

export const DEFAULT_LIMITS: StoreLimits = { maxPendingReports: 200, maxPendingDocs: 2000 };

/**
 * How far the day summaries cover the stored day documents: `complete` once every day document of
 * the layout version has its summary; `through` is the last (domain, day) an interrupted build
 * reached, so a new open goes on from there.
 */
interface SummaryLayout {
  version: number;
  complete: boolean;
  through?: string;
}
const SUMMARY_LAYOUT_STATE = 'layout:day-summaries';
/** Day documents summarised per write while a store is migrated. */
const MIGRATION_CHUNK = 8;
/**
 * Source rows of day summaries kept from one flush to the next: a backlog adds to the same days
 * over a few flushes, and a kept summary is added to instead of summarising its day again.
 */
const KEPT_SUMMARY_ROWS = 20_000;

/** Identity of a day document's content: its parts and when each was ingested. */
function partsSignature(doc: StoredDayDoc | undefined): string {
  if (!doc) return '';
  return Object.keys(doc.reports ?? {})
    .map((key) => `${key}@${doc.reports[key]?.ingestedAt ?? ''}`)
    .sort()
    .join(',');
}

type Ranges = Record<string, { firstDay: string; lastDay: string }>;

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isoDay(value: string, what: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new Error(`${what} must be a UTC day YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return value;
}

export class KeyvReportStore implements ReportStore {
  /** touched documents of the current batch (undefined: absent in the store) */
  private readonly docs = new Map<string, unknown>();
  private readonly dirty = new Set<string>();
  /** the dirty documents that are day documents: each gets its summary in the same write */
  private readonly dirtyDays = new Set<string>();
  /**
   * The summary of each day document of the batch, kept up to date as parts are added; null when
   * a part was replaced (a report applied again), then the day is summarised afresh.
   */
  private readonly daySummaries = new Map<string, DaySummaryBuilder | null>();
  /**
   * Summaries of the last flush's days, by day document key. One is used again only when the day
   * document read in the next batch is the one it summarises (another process may have written it).
   */
  private keptSummaries = new Map<string, DaySummaryBuilder>();
  /** whether every stored day document has its summary (else queries summarise what is missing) */
  private summariesComplete = false;
  /** a fresh store: the layout state is written with its first documents */
  private layoutUnwritten = false;
  /** dedupe markers waiting for the documents they depend on */
  private readonly pending = new Map<string, StoredReport>();
  /**
   * Ingest-log entries of the batch by UTC day. They are not merged into one document per day
   * (rewriting a day's whole log on every flush made a big backlog quadratic): each flush appends
   * one chunk document per day and lists it in the day's small index document.
   */
  private readonly logBatch = new Map<string, Record<string, IngestLogEntry>>();
  private catalogDirty = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** set when a write was refused because another process took the writer lease */
  private fencedOut: LeaseLostError | null = null;
  /** reports accepted as new whose write failed (lease lost, disk full): not stored */
  private lost = 0;
  /** keys the last storedReports() found absent: ingest() needs no lookup of its own for them */
  private checkedAbsent = new Set<string>();

  private constructor(
    private readonly backend: Backend,
    private catalog: CatalogDoc,
    private readonly logger: Logger,
    private readonly limits: StoreLimits,
    private readonly hooks: StoreHooks,
  ) {}

  static async open(
    backend: Backend,
    logger: Logger,
    limits: StoreLimits = DEFAULT_LIMITS,
    hooks: StoreHooks = {},
    /** whether every write checks the writer lease (then no other process writes meanwhile) */
    fence = false,
  ): Promise<KeyvReportStore> {
    const catalog = mergeCatalogs(emptyCatalog(), (await backend.get<CatalogDoc>(docKeys.catalog)) ?? emptyCatalog());
    const store = new KeyvReportStore(backend, catalog, logger, limits, hooks);
    await store.openSummaries(fence);
    return store;
  }

  /**
   * Brings the day summaries up to date with the stored day documents: a store written before
   * summaries existed (or by an older summary layout) gets them built once, here, resumably.
   */
  private async openSummaries(fenced: boolean): Promise<void> {
    const layout = await this.backend.get<SummaryLayout>(docKeys.state(SUMMARY_LAYOUT_STATE));
    if (layout?.version === SUMMARY_VERSION && layout.complete) {
      this.summariesComplete = true;
      return;
    }
    if (Object.keys(this.catalog.domains).length === 0 && !layout) {
      this.summariesComplete = true;
      this.layoutUnwritten = true;
      return;
    }
    await this.migrateSummaries(layout?.version === SUMMARY_VERSION ? layout.through : undefined, fenced);
  }

  private async migrateSummaries(through: string | undefined, fenced: boolean): Promise<void> {
    const started = performance.now();
    const slots: Array<{ id: string; domain: string; date: string }> = [];
    for (const domain of Object.keys(this.catalog.domains).sort(byString)) {
      const range = own(this.catalog.domains, domain)!;
      for (const date of dayRange(range.firstDay, range.lastDay))
        slots.push({ id: `${domain}\u0000${date}`, domain, date });
    }
    const todo = through === undefined ? slots : slots.filter((slot) => slot.id > through);
    this.logger.info(
      { days: todo.length, resumed: through !== undefined },
      'store: building the day summaries of the stored reports (a one-time change of the store layout)',
    );
    let written = 0;
    for (let index = 0; index < todo.length; index += MIGRATION_CHUNK) {
      const chunk = todo.slice(index, index + MIGRATION_CHUNK);
      const keys = chunk.map((slot) => docKeys.day(slot.domain, slot.date));
      let docs = await this.backend.getMany<StoredDayDoc>(keys);
      let pending = chunk.map((_, position) => position);
      // Without the writer lease another process may write a day (and its summary) meanwhile: a
      // summary is kept only when its day document is unchanged after the write.
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        const entries: Array<{ key: string; value: unknown }> = pending.flatMap((position) => {
          const doc = docs[position];
          const slot = chunk[position]!;
          return doc ? [{ key: docKeys.summary(slot.domain, slot.date), value: encodeSummary(summariseDay(doc)) }] : [];
        });
        if (attempt === 0)
          entries.push({
            key: docKeys.state(SUMMARY_LAYOUT_STATE),
            value: { version: SUMMARY_VERSION, complete: false, through: chunk.at(-1)!.id } satisfies SummaryLayout,
          });
        await this.backend.setMany(entries);
        written += entries.length - (attempt === 0 ? 1 : 0);
        if (fenced || attempt >= 5) break;
        const again = await this.backend.getMany<StoredDayDoc>(pending.map((position) => keys[position]!));
        const changed = pending.filter((position, at) => partsSignature(again[at]) !== partsSignature(docs[position]));
        docs = docs.map((doc, position) => (changed.includes(position) ? again[pending.indexOf(position)] : doc));
        pending = changed;
      }
    }
    await this.backend.setMany([
      { key: docKeys.state(SUMMARY_LAYOUT_STATE), value: { version: SUMMARY_VERSION, complete: true } },
    ]);
    this.summariesComplete = true;
    this.logger.info(
      { summaries: written, ms: Math.round(performance.now() - started) },
      'store: day summaries built; queries read them from now on',
    );
  }

  /** Runs operations one after another: the store is the single writer of its documents. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new Error('the store is closed');
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  ingest(
    report: AggregateReport | FailureReport | TlsReport,
    source: string,
    now: Date = new Date(),
  ): Promise<IngestOutcome> {
    return this.exclusive(async () => {
      if (this.fencedOut) throw this.fencedOut;
      const contribution = contributionOf(report, source, now.toISOString());
      const key = contribution.reportKey;
      if (this.pending.has(key)) return 'duplicate';
      if (!this.checkedAbsent.delete(key) && (await this.backend.get(docKeys.report(key))) !== undefined)
        return 'duplicate';
      const cutoff = this.catalog.prunedBefore;
      if (cutoff && contribution.stored.days.every((day) => day < cutoff)) return 'expired';

      const merged = contribution.patches.filter((patch) => patch.kind !== 'log');
      const missing = [...new Set(merged.map((patch) => patch.key))].filter((docKey) => !this.docs.has(docKey));
      const loaded = await this.backend.getMany<unknown>(missing);
      missing.forEach((docKey, index) => this.docs.set(docKey, loaded[index]));
      for (const patch of merged) {
        if (patch.kind !== 'day' || this.daySummaries.has(patch.key)) continue;
        const doc = this.docs.get(patch.key) as StoredDayDoc | undefined;
        const kept = this.keptSummaries.get(patch.key);
        this.keptSummaries.delete(patch.key);
        this.daySummaries.set(
          patch.key,
          kept?.summarises(doc)
            ? kept
            : doc
              ? DaySummaryBuilder.of(doc)
              : new DaySummaryBuilder(patch.domain, patch.date),
        );
      }
      for (const patch of contribution.patches) {
        if (patch.kind === 'log') {
          const entries = this.logBatch.get(patch.date) ?? {};
          entries[patch.field] = patch.value;
          this.logBatch.set(patch.date, entries);
          if (extendCatalog(this.catalog, patch)) this.catalogDirty = true;
          continue;
        }
        if (patch.kind === 'day') {
          const before = this.docs.get(patch.key) as StoredDayDoc | undefined;
          const summary = this.daySummaries.get(patch.key);
          // a part that replaces one (same report again) is summarised with its whole day at the flush
          if (own(before?.reports, patch.part.reportKey) !== undefined) this.daySummaries.set(patch.key, null);
          else summary?.add(patch.part.reportKey, patch.part);
        }
        this.docs.set(patch.key, applyPatch(this.docs.get(patch.key), patch));
        this.dirty.add(patch.key);
        if (patch.kind === 'day') this.dirtyDays.add(patch.key);
        if (extendCatalog(this.catalog, patch)) this.catalogDirty = true;
      }
      this.pending.set(key, contribution.stored);
      if (this.pending.size >= this.limits.maxPendingReports || this.dirty.size >= this.limits.maxPendingDocs) {
        try {
          await this.flushBuffer();
        } catch (error) {
          // this report is not 'new' to the caller (ingest() fails): it must not count as lost either
          if (!this.pending.delete(key) && error instanceof LeaseLostError) this.lost -= 1;
          throw error;
        }
      }
      return 'new';
    });
  }

  flush(): Promise<void> {
    return this.exclusive(() => this.flushBuffer());
  }

  storedReports(reportKeys: readonly string[], prefetch: readonly Report[] = []): Promise<Set<string>> {
    return this.exclusive(async () => {
      const stored = new Set<string>();
      const unbuffered = [...new Set(reportKeys)].filter((key) => {
        if (this.pending.has(key)) stored.add(key);
        return !this.pending.has(key);
      });
      const markers = await this.backend.getMany(unbuffered.map(docKeys.report));
      // Only the latest answer is remembered, so the set stays as small as one batch. Acting on it
      // later is safe: a report that another writer stored meanwhile is applied again under its
      // own key, which overwrites the same contributions (the totals do not change).
      this.checkedAbsent = new Set();
      unbuffered.forEach((key, index) => {
        if (markers[index] === undefined) this.checkedAbsent.add(key);
        else stored.add(key);
      });
      // The documents the absent reports touch, read now in one go; each ingest() reads only what
      // is still missing. A document read here is one this batch would read at its first use: the
      // next flush drops it with the batch's others, and one changed in the batch is never replaced.
      const wanted = new Set<string>();
      for (const report of prefetch) {
        let key: string;
        try {
          key = reportKey(report);
        } catch {
          continue;
        }
        if (!this.checkedAbsent.has(key)) continue;
        for (const docKey of documentKeysOf(report)) if (!this.docs.has(docKey)) wanted.add(docKey);
      }
      if (wanted.size > 0) {
        const keys = [...wanted];
        const docs = await this.backend.getMany<unknown>(keys);
        keys.forEach((docKey, index) => {
          if (!this.docs.has(docKey)) this.docs.set(docKey, docs[index]);
        });
      }
      return stored;
    });
  }

  integrityCheck(): Promise<string[]> {
    return this.exclusive(async () => (this.backend.integrity ? await this.backend.integrity() : []));
  }

  /** How many reports that ingest() accepted as new could not be written (and are not stored). */
  unwrittenReports(): number {
    return this.lost + this.pending.size;
  }

  /**
   * Drops what the buffer holds: after the lease was lost it must never be written (the new
   * holder reads those inputs again), and after a failed write it is retried only by a new run.
   */
  private discardBuffer(): void {
    this.lost += this.pending.size;
    this.pending.clear();
    this.dirty.clear();
    this.dirtyDays.clear();
    this.daySummaries.clear();
    this.keptSummaries.clear();
    this.docs.clear();
    this.logBatch.clear();
    this.catalogDirty = false;
  }

  private async flushBuffer(): Promise<void> {
    // once fenced out, every flush says so (the caller must stop), even with nothing to write
    if (this.fencedOut) throw this.fencedOut;
    if (this.dirty.size === 0 && this.pending.size === 0 && this.logBatch.size === 0 && !this.catalogDirty) return;
    try {
      await this.writeBuffer();
    } catch (error) {
      if (error instanceof LeaseLostError) {
        const unwritten = this.pending.size;
        this.discardBuffer();
        this.fencedOut = new LeaseLostError(`${unwritten} buffered reports were not written`);
        throw this.fencedOut;
      }
      throw error;
    }
  }

  private async writeBuffer(): Promise<void> {
    const started = performance.now();
    const documents: Array<{ key: string; value: unknown }> = [...this.dirty].map((key) => ({
      key,
      value: this.docs.get(key),
    }));
    // Each day document's summary goes in the same atomic write: both or neither.
    const summaries = new Map<string, DaySummaryBuilder>();
    for (const key of this.dirtyDays) {
      const doc = this.docs.get(key) as StoredDayDoc;
      const summary = this.daySummaries.get(key) ?? DaySummaryBuilder.of(doc);
      summaries.set(key, summary);
      documents.push({ key: docKeys.summary(doc.domain, doc.date), value: summary.stored() });
    }
    if (this.layoutUnwritten && this.dirtyDays.size > 0)
      documents.push({
        key: docKeys.state(SUMMARY_LAYOUT_STATE),
        value: { version: SUMMARY_VERSION, complete: true } satisfies SummaryLayout,
      });
    if (this.logBatch.size > 0) {
      const days = [...this.logBatch.keys()];
      const indexes = await this.backend.getMany<string[]>(days.map(docKeys.logIndex));
      const chunk = `${Date.now().toString(36)}-${process.getBuiltinModule('node:crypto').randomBytes(4).toString('hex')}`;
      days.forEach((day, position) => {
        const chunkKey = docKeys.logChunk(day, chunk);
        documents.push(
          { key: chunkKey, value: this.logBatch.get(day) },
          { key: docKeys.logIndex(day), value: [...(indexes[position] ?? []), chunkKey] },
        );
      });
    }
    // The catalog goes with the documents, before the markers: a marker must never exist for a
    // report whose days the catalog does not cover, or queries would not find it.
    if (this.catalogDirty) {
      await this.syncCatalog();
      documents.push({ key: docKeys.catalog, value: this.catalog });
    }
    await this.backend.setMany(documents);
    if (this.dirtyDays.size > 0) this.layoutUnwritten = false;
    this.keptSummaries = new Map();
    let keptRows = 0;
    for (const [key, summary] of summaries) {
      if (keptRows + summary.size > KEPT_SUMMARY_ROWS) continue;
      keptRows += summary.size;
      this.keptSummaries.set(key, summary);
    }
    this.daySummaries.clear();
    this.catalogDirty = false;
    this.dirty.clear();
    this.dirtyDays.clear();
    this.docs.clear();
    this.logBatch.clear();
    await this.hooks.afterDocsWritten?.();
    const markers = [...this.pending.values()].map((stored) => ({
      key: docKeys.report(stored.reportKey),
      value: stored,
    }));
    await this.backend.setMany(markers);
    this.pending.clear();
    const info = { documents: documents.length, reports: markers.length, ms: performance.now() - started };
    this.hooks.afterFlush?.(info);
    this.logger.debug(info, 'store flushed');
  }

  /**
   * Merges the stored catalog into ours. One writer is the rule (the lease), but a second process
   * (a CLI ingest beside the bot) must neither hide its data from us nor have it hidden by our
   * next catalog write.
   */
  private async syncCatalog(): Promise<void> {
    const stored = await this.backend.get<CatalogDoc>(docKeys.catalog);
    if (stored) this.catalog = mergeCatalogs(this.catalog, stored);
  }

  /** Before a query: buffered reports written, catalog current. */
  private async settle(): Promise<void> {
    // reads still work for a writer that lost the lease (its buffer was dropped)
    if (!this.fencedOut) await this.flushBuffer();
    await this.syncCatalog();
  }

  domains(): Promise<string[]> {
    return this.exclusive(async () => {
      await this.settle();
      return Object.keys(this.catalog.domains).sort(byString);
    });
  }

  /** Reads the day documents `<prefix>:<domain>:<day>` of the domains (all when null) for from..to. */
  private async readDays<T>(
    ranges: Ranges,
    domain: string | null,
    from: string,
    to: string,
    key: (domain: string, day: string) => string,
  ): Promise<{ domain: string; date: string; doc: T }[]> {
    isoDay(from, 'from');
    isoDay(to, 'to');
    const wanted = domain === null ? Object.keys(ranges) : [normaliseDomain(domain)];
    const slots: { domain: string; date: string; key: string }[] = [];
    for (const name of wanted.sort(byString)) {
      const range = own(ranges, name);
      if (!range) continue;
      for (const date of dayRange(
        from > range.firstDay ? from : range.firstDay,
        to < range.lastDay ? to : range.lastDay,
      ))
        slots.push({ domain: name, date, key: key(name, date) });
    }
    const docs = await this.backend.getMany<T>(slots.map((slot) => slot.key));
    const found = slots.flatMap((slot, index) =>
      docs[index] === undefined ? [] : [{ domain: slot.domain, date: slot.date, doc: docs[index] as T }],
    );
    return found.sort((a, b) => byString(a.date, b.date) || byString(a.domain, b.domain));
  }

  days(domain: string | null, from: string, to: string): Promise<DayDoc[]> {
    return this.exclusive(async () => {
      await this.settle();
      const slots = await this.readDays<StoredDayDoc>(this.catalog.domains, domain, from, to, docKeys.day);
      // each document is this read's own parsed copy: its rows are made whole in place
      return slots.map(({ doc }) => {
        for (const reportKey of Object.keys(doc.reports ?? {})) {
          const part = own(doc.reports, reportKey);
          if (part) part.sources = (part.sources ?? []).map(unpackSource);
        }
        return doc as DayDoc;
      });
    });
  }

  summaries(domain: string | null, from: string, to: string): Promise<DaySummary[]> {
    return this.exclusive(async () => {
      await this.settle();
      const slots = await this.readDays<unknown>(this.catalog.domains, domain, from, to, docKeys.summary);
      const found = new Map<string, DaySummary>();
      const missing: Array<{ domain: string; date: string }> = [];
      for (const slot of slots) {
        if (isStoredSummary(slot.doc)) found.set(`${slot.domain}\u0000${slot.date}`, decodeSummary(slot.doc));
        else missing.push(slot);
      }
      // Until a migration has finished (or for a summary of another layout), a day without its
      // summary is summarised from its document.
      if (!this.summariesComplete || missing.length > 0) {
        const unread = (
          this.summariesComplete ? missing : await this.daySlotsWithoutSummary(domain, from, to, found)
        ).map((slot) => docKeys.day(slot.domain, slot.date));
        for (const doc of await this.backend.getMany<StoredDayDoc>(unread))
          if (doc) found.set(`${doc.domain}\u0000${doc.date}`, summariseDay(doc));
      }
      return [...found.values()].sort((a, b) => byString(a.date, b.date) || byString(a.domain, b.domain));
    });
  }

  private async daySlotsWithoutSummary(
    domain: string | null,
    from: string,
    to: string,
    found: ReadonlyMap<string, DaySummary>,
  ): Promise<Array<{ domain: string; date: string }>> {
    const wanted = domain === null ? Object.keys(this.catalog.domains) : [normaliseDomain(domain)];
    const slots: Array<{ domain: string; date: string }> = [];
    for (const name of wanted) {
      const range = own(this.catalog.domains, name);
      if (!range) continue;
      for (const date of dayRange(
        from > range.firstDay ? from : range.firstDay,
        to < range.lastDay ? to : range.lastDay,
      ))
        if (!found.has(`${name}\u0000${date}`)) slots.push({ domain: name, date });
    }
    return slots;
  }

  ipEntries(ip: string, from: string, to: string): Promise<IpEntry[]> {
    return this.exclusive(async () => {
      await this.settle();
      isoDay(from, 'from');
      isoDay(to, 'to');
      if (from > to) return [];
      const address = normaliseIp(ip);
      const bucket = ipBucket(address);
      // Only the days that can hold data: inside the catalog's day ranges and months with an index.
      const ranges = Object.values(this.catalog.domains);
      if (ranges.length === 0) return [];
      const first = ranges.reduce((min, range) => (range.firstDay < min ? range.firstDay : min), ranges[0]!.firstDay);
      const last = ranges.reduce((max, range) => (range.lastDay > max ? range.lastDay : max), ranges[0]!.lastDay);
      const days = dayRange(from > first ? from : first, to < last ? to : last).filter((day) =>
        this.catalog.ipMonths.includes(monthOf(day)),
      );
      const bucketKeys = days.map((day) => docKeys.ipBucket(day, bucket));
      // a bucket holds every IP of its day that hashes to it: only this IP's rows are read when the backend can
      const rows: Array<IpBucketDoc[string] | undefined> = this.backend.getFields
        ? await this.backend.getFields<IpBucketDoc[string]>(bucketKeys, address)
        : (await this.backend.getMany<IpBucketDoc>(bucketKeys)).map((doc) => own(doc, address));
      const stored = rows
        .flatMap((row) => Object.entries(row ?? {}))
        .map(([entryKey, entry]) => ipEntryOf(address, entryKey, entry))
        .filter((entry) => entry.date >= from && entry.date <= to);
      // The org name lives once in the report's marker, not in each of its IP rows.
      const keys = [...new Set(stored.filter((entry) => entry.orgName === undefined).map((entry) => entry.reportKey))];
      const markers = await this.backend.getMany<StoredReport>(keys.map(docKeys.report));
      const orgNames = new Map(keys.map((key, index) => [key, markers[index]?.orgName ?? '']));
      const entries: IpEntry[] = stored.map((entry) => ({
        ...entry,
        orgName: entry.orgName ?? orgNames.get(entry.reportKey) ?? '',
      }));
      return entries.sort(
        (a, b) => byString(a.date, b.date) || byString(a.domain, b.domain) || byString(a.reportKey, b.reportKey),
      );
    });
  }

  failures(domain: string | null, from: string, to: string): Promise<StoredFailure[]> {
    return this.exclusive(async () => {
      await this.settle();
      const slots = await this.readDays<FailureDayDoc>(
        this.catalog.failureDomains,
        domain,
        from,
        to,
        docKeys.failureDay,
      );
      const when = (failure: StoredFailure) => failure.arrivalDate ?? failure.ingestedAt;
      return slots
        .flatMap((slot) => Object.values(slot.doc))
        .sort((a, b) => Date.parse(when(a)) - Date.parse(when(b)) || byString(a.reportKey, b.reportKey));
    });
  }

  tlsResults(domain: string | null, from: string, to: string): Promise<StoredTlsPolicy[]> {
    return this.exclusive(async () => {
      await this.settle();
      const slots = await this.readDays<TlsDayDoc>(this.catalog.tlsDomains, domain, from, to, docKeys.tlsDay);
      return slots.flatMap((slot) =>
        Object.entries(slot.doc)
          .sort(([a], [b]) => byString(a, b))
          .map(([, value]) => value),
      );
    });
  }

  ingestedSince(since: string): Promise<IngestLogEntry[]> {
    return this.exclusive(async () => {
      await this.settle();
      const sinceMs = Date.parse(since);
      if (Number.isNaN(sinceMs)) throw new Error(`ingestedSince needs an ISO date-time, got ${JSON.stringify(since)}`);
      const { logFirstDay, logLastDay } = this.catalog;
      if (logFirstDay === null || logLastDay === null) return [];
      const sinceDay = utcDay(sinceMs);
      const days = dayRange(sinceDay > logFirstDay ? sinceDay : logFirstDay, logLastDay);
      const indexes = await this.backend.getMany<string[]>(days.map(docKeys.logIndex));
      const docs = await this.backend.getMany<IngestLogDoc>(indexes.flatMap((chunks) => chunks ?? []));
      // A report re-applied after a crash on another day can sit in two logs: keep its first entry.
      const entries = new Map<string, IngestLogEntry>();
      for (const doc of docs) {
        for (const entry of Object.values(doc ?? {})) {
          if (Date.parse(entry.ingestedAt) < sinceMs) continue;
          const seen = entries.get(entry.reportKey);
          if (!seen || entry.ingestedAt < seen.ingestedAt) entries.set(entry.reportKey, entry);
        }
      }
      return [...entries.values()].sort(
        (a, b) => Date.parse(a.ingestedAt) - Date.parse(b.ingestedAt) || byString(a.reportKey, b.reportKey),
      );
    });
  }

  report(reportKey: string): Promise<StoredReport | undefined> {
    return this.exclusive(
      async () => this.pending.get(reportKey) ?? (await this.backend.get<StoredReport>(docKeys.report(reportKey))),
    );
  }

  /** The marks as a prototype-free map: a subject such as "__proto__" or "constructor" is data. */
  marks(): Promise<MarksDoc> {
    return this.exclusive(async () => toDict(await this.backend.get<MarksDoc>(docKeys.marks)));
  }

  setMark(mark: Mark): Promise<void> {
    return this.exclusive(async () => {
      const subject = capText(mark.subject.trim());
      if (!subject) throw new Error('a mark needs a subject (an IP address or a sender name)');
      const marks = toDict(await this.backend.get<MarksDoc>(docKeys.marks));
      marks[subject] = { subject, verdict: mark.verdict, by: capText(mark.by), at: mark.at };
      await this.backend.setMany([{ key: docKeys.marks, value: marks }]);
    });
  }

  clearMark(subject: string): Promise<void> {
    return this.exclusive(async () => {
      const marks = toDict(await this.backend.get<MarksDoc>(docKeys.marks));
      if (!Object.hasOwn(marks, subject.trim())) return;
      delete marks[subject.trim()];
      await this.backend.setMany([{ key: docKeys.marks, value: marks }]);
    });
  }

  getState<T>(name: string): Promise<T | undefined> {
    return this.exclusive(() => this.backend.get<T>(docKeys.state(name)));
  }

  setState<T>(name: string, value: T, ttlMs?: number): Promise<void> {
    return this.exclusive(async () => {
      if (this.fencedOut) throw this.fencedOut;
      // State such as "last IMAP UID" describes what has been stored: buffered reports go first,
      // so a crash can never leave the state ahead of the data.
      await this.flushBuffer();
      await this.backend.setMany([
        { key: docKeys.state(name), value, ...(ttlMs !== undefined && ttlMs > 0 ? { ttl: ttlMs } : {}) },
      ]);
    });
  }

  prune(retentionDays: number, now: Date = new Date()): Promise<{ deletedKeys: number }> {
    return this.exclusive(async () => {
      await this.settle();
      if (!(retentionDays > 0)) {
        // 0 keeps everything: lift an earlier prune's cut-off, so old reports can be imported again.
        if (retentionDays === 0 && this.catalog.prunedBefore) {
          const catalog = { ...structuredClone(this.catalog), prunedBefore: null };
          await this.backend.setMany([{ key: docKeys.catalog, value: catalog }]);
          this.catalog = catalog;
        }
        return { deletedKeys: 0 };
      }
      const cutoff = addDays(utcDay(now), -Math.floor(retentionDays));
      const before = addDays(cutoff, -1);
      const catalog = structuredClone(this.catalog);
      const old = {
        days: [] as string[],
        summaries: [] as string[],
        failures: [] as string[],
        tls: [] as string[],
        logs: [] as string[],
      };

      const oldAggregateDays = new Set<string>();
      const collect = (
        ranges: Ranges,
        list: string[],
        key: (domain: string, day: string) => string,
        days?: Set<string>,
      ) => {
        for (const [domain, range] of Object.entries(ranges)) {
          if (range.firstDay >= cutoff) continue;
          for (const day of dayRange(range.firstDay, range.lastDay < before ? range.lastDay : before)) {
            list.push(key(domain, day));
            days?.add(day);
          }
          if (range.lastDay < cutoff) delete ranges[domain];
          else range.firstDay = cutoff;
        }
      };
      collect(catalog.domains, old.days, docKeys.day, oldAggregateDays);
      // the summaries of those days, deleted first: a day document in the catalog's range keeps its summary
      for (const key of old.days) old.summaries.push(`sum:${key.slice('agg:'.length)}`);
      collect(catalog.failureDomains, old.failures, docKeys.failureDay);
      collect(catalog.tlsDomains, old.tls, docKeys.tlsDay);
      if (catalog.logFirstDay !== null && catalog.logLastDay !== null && catalog.logFirstDay < cutoff) {
        const logDays = dayRange(catalog.logFirstDay, catalog.logLastDay < before ? catalog.logLastDay : before);
        const indexes = await this.backend.getMany<string[]>(logDays.map(docKeys.logIndex));
        old.logs = [...indexes.flatMap((chunks) => chunks ?? []), ...logDays.map(docKeys.logIndex)];
        if (catalog.logLastDay < cutoff) catalog.logFirstDay = catalog.logLastDay = null;
        else catalog.logFirstDay = cutoff;
      }
      catalog.ipMonths = catalog.ipMonths.filter((month) => month >= monthOf(cutoff));
      catalog.prunedBefore = catalog.prunedBefore && catalog.prunedBefore > cutoff ? catalog.prunedBefore : cutoff;

      // The catalog first: once it carries the cut-off, an old backlog is refused ('expired')
      // even if the deletions below are interrupted.
      await this.backend.setMany([{ key: docKeys.catalog, value: catalog }]);
      this.catalog = catalog;

      let deletedKeys = 0;
      const candidates = new Set<string>();
      const deleteExisting = async (keys: string[], visit?: (doc: unknown) => void) => {
        for (let index = 0; index < keys.length; index += 256) {
          const part = keys.slice(index, index + 256);
          const docs = await this.backend.getMany<unknown>(part);
          const existing = part.filter((_, position) => docs[position] !== undefined);
          if (visit) for (const doc of docs) if (doc !== undefined) visit(doc);
          await this.backend.deleteMany(existing);
          deletedKeys += existing.length;
        }
      };
      await deleteExisting(old.summaries);
      await deleteExisting(old.days, (doc) =>
        Object.keys((doc as StoredDayDoc).reports).forEach((key) => candidates.add(key)),
      );
      await deleteExisting(old.failures, (doc) =>
        Object.values(doc as FailureDayDoc).forEach((failure) => candidates.add(failure.reportKey)),
      );
      await deleteExisting(old.tls, (doc) =>
        Object.values(doc as TlsDayDoc).forEach((policy) => candidates.add(policy.reportKey)),
      );
      await deleteExisting(old.logs);
      // IP index rows exist only on days with aggregate data.
      await deleteExisting(
        [...oldAggregateDays].flatMap((day) =>
          Array.from({ length: IP_BUCKETS }, (_, bucket) => docKeys.ipBucket(day, bucket)),
        ),
      );

      // Markers of reports whose every day is gone: read from the pruned documents above.
      const keys = [...candidates].map(docKeys.report);
      for (let index = 0; index < keys.length; index += 256) {
        const part = keys.slice(index, index + 256);
        const markers = await this.backend.getMany<StoredReport>(part);
        const gone = part.filter(
          (_, position) => markers[position] !== undefined && markers[position]!.days.every((day) => day < cutoff),
        );
        await this.backend.deleteMany(gone);
        deletedKeys += gone.length;
      }
      this.logger.info({ cutoff, deletedKeys }, 'store pruned');
      return { deletedKeys };
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const closing = this.exclusive(async () => {
      try {
        if (!this.fencedOut) await this.flushBuffer();
      } catch (error) {
        // what could not be written is counted as lost (unwrittenReports), and the store closes
        this.discardBuffer();
        throw error;
      } finally {
        this.closed = true;
        await this.backend.close().catch(() => undefined);
      }
    });
    return closing;
  }
}
