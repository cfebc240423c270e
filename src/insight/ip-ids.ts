// Small integer ids of the source IPs of stored day rows, shared by every window query of this
// process, with each stored day's column of its rows' ids remembered beside the (cached) stored day.
// A busy month is 40-60k rows of 20-30k IPs, and identifying them, grouping them and indexing them
// each hashed every IP text again, query after query; with the ids in a column, a row's IP is one
// array read, and per-query scratch is a typed array indexed by id.

import { dict } from '../store/dict.ts';
import { summaryRows, type DayData, type StoredDaySummary } from '../store/summary.ts';
import type { SenderIdentity } from './types.ts';

/** Past this many ids, every id is forgotten when the next query begins (one id per distinct IP). */
const MAX_IPS = 250_000;

export class IpIds {
  /** changes whenever ids are forgotten: anything indexed by id carries the generation it was made in */
  generation = 0;
  private ids = new Map<string, number>();
  /** the IP of each id */
  ips: string[] = [];
  private columns = new WeakMap<StoredDaySummary, { generation: number; column: Int32Array }>();

  /** ids given so far (every id is below this) */
  get size(): number {
    return this.ips.length;
  }

  /**
   * Called by a query before it reads ids (and never while it still uses ids read before): ids
   * only grow within a query, and are all forgotten between queries past MAX_IPS.
   */
  begin(limit = MAX_IPS): void {
    if (this.ips.length <= limit) return;
    this.ids = new Map();
    this.ips = [];
    this.columns = new WeakMap();
    this.generation += 1;
  }

  /** the id of an IP, if some row has had it */
  id(ip: string): number | undefined {
    return this.ids.get(ip);
  }

  private intern(ip: string): number {
    let id = this.ids.get(ip);
    if (id === undefined) this.ids.set(ip, (id = this.ips.push(ip) - 1));
    return id;
  }

  /** The id of each row's IP (its text as String() gives it). */
  column(day: StoredDaySummary): Int32Array {
    const cached = this.columns.get(day);
    if (cached && cached.generation === this.generation) return cached.column;
    const column = new Int32Array(day.ips.length);
    for (let row = 0; row < column.length; row++) column[row] = this.intern(String(day.ips[row]));
    this.columns.set(day, { generation: this.generation, column });
    return column;
  }

  /** The columns of some days (their stored rows), in their order. */
  columnsOf(days: readonly DayData[]): Int32Array[] {
    return days.map((day) => this.column(summaryRows(day)));
  }
}

/** The process's one table of IP ids. */
export const ipIds = new IpIds();

/** A record of identities by IP id, made while the ids were of `generation`. */
interface IdentitiesById {
  generation: number;
  byId: Array<SenderIdentity | undefined>;
}

/** identifyDays' records of identities, by IP id (what buildGroupTable reads instead of the record). */
export const byIdOf = new WeakMap<Record<string, SenderIdentity>, IdentitiesById>();

/** Sets one identity of identifyDays' record (and of its identities by id). */
export function setIdentity(identities: Record<string, SenderIdentity>, ip: string, identity: SenderIdentity): void {
  identities[ip] = identity;
  const entry = byIdOf.get(identities);
  if (!entry) return;
  const id = entry.generation === ipIds.generation ? ipIds.id(ip) : undefined;
  if (id !== undefined && id < entry.byId.length) entry.byId[id] = identity;
  // an IP the array has no place for: the record alone is right from now on
  else byIdOf.delete(identities);
}

/** identifyDays' identities by IP id, while the ids are those they were made with. */
export function identitiesById(identities: Record<string, SenderIdentity>): IdentitiesById['byId'] | undefined {
  const entry = byIdOf.get(identities);
  return entry && entry.generation === ipIds.generation ? entry.byId : undefined;
}

/**
 * identifyDays' record of identities by IP, read through its identities by id: writing a plain
 * record of a busy month's 20-30k IPs cost 12-20 ms of property inserts in a fresh process, and
 * `ready` reads a few of them. It reads, lists (in `order`) and takes writes as a prototype-free
 * record does; once the ids are forgotten it reads from a plain record built from `order`.
 */
export function identityRecord(
  order: readonly string[],
  orderIds: readonly number[],
  byId: Array<SenderIdentity | undefined>,
  generation: number,
): Record<string, SenderIdentity> {
  // what was written since (setIdentity, a caller's own additions), and the plain record once needed
  const written = dict<SenderIdentity>();
  let plain: Record<string, SenderIdentity> | null = null;
  const lookup = (key: string | symbol): SenderIdentity | undefined => {
    if (typeof key !== 'string') return undefined;
    if (Object.hasOwn(written, key)) return written[key];
    if (generation === ipIds.generation) {
      const id = ipIds.id(key);
      return id === undefined || id >= byId.length ? undefined : byId[id];
    }
    if (!plain) {
      plain = dict<SenderIdentity>();
      for (let at = 0; at < order.length; at++) plain[order[at]!] = byId[orderIds[at]!]!;
    }
    return Object.hasOwn(plain, key) ? plain[key] : undefined;
  };
  const record = new Proxy(dict<SenderIdentity>(), {
    get: (_, key) => lookup(key),
    has: (_, key) => lookup(key) !== undefined,
    set: (_, key, value: SenderIdentity) => {
      if (typeof key !== 'string') return false;
      written[key] = value;
      return true;
    },
    defineProperty: (_, key, descriptor) => {
      if (typeof key !== 'string' || !('value' in descriptor)) return false;
      written[key] = descriptor.value as SenderIdentity;
      return true;
    },
    deleteProperty: () => false,
    ownKeys: () => {
      const keys = order.filter((ip) => lookup(ip) !== undefined);
      for (const key of Object.keys(written)) if (!order.includes(key)) keys.push(key);
      return keys;
    },
    getOwnPropertyDescriptor: (_, key) => {
      const value = lookup(key);
      return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
  });
  byIdOf.set(record, { generation, byId });
  return record;
}
