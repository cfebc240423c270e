// A day document's source rows as stored: one array per row, its values in a fixed order, instead
// of an object that names every field. Day documents are the biggest part of what a flush writes,
// and a row's field names were more than half of its JSON. Rows written before (objects with
// every field) are read as they are: a reader tells the two apart by Array.isArray.

import { SOURCE_COUNTERS, SOURCE_MAPS, emptySourceStat } from './days.ts';
import type { SourceStat } from './types.ts';

/**
 * [ip, ...SOURCE_COUNTERS, ...SOURCE_MAPS], an empty map as 0. The positions are the layout:
 * SOURCE_COUNTERS and SOURCE_MAPS may only ever grow at their ends (a shorter row reads as zero).
 */
export type PackedSourceRow = [string, ...Array<number | Record<string, number>>];

/** A source row as a day document holds it: packed (written now) or whole (written before). */
export type StoredSourceRow = PackedSourceRow | SourceStat;

const MAPS_AT = 1 + SOURCE_COUNTERS.length;

function isEmpty(map: object): boolean {
  for (const key in map) if (Object.hasOwn(map, key)) return false;
  return true;
}

export function packSource(stat: SourceStat): PackedSourceRow {
  const row: PackedSourceRow = [stat.ip];
  for (const field of SOURCE_COUNTERS) row.push(stat[field]);
  for (const field of SOURCE_MAPS) row.push(isEmpty(stat[field]) ? 0 : stat[field]);
  return row;
}

/** A row of the IP index as stored: a packed row without its IP (its bucket entry says it). */
export type PackedCounts = Array<number | Record<string, number>>;

export function packCounts(stat: SourceStat): PackedCounts {
  const row: PackedCounts = [];
  for (const field of SOURCE_COUNTERS) row.push(stat[field]);
  for (const field of SOURCE_MAPS) row.push(isEmpty(stat[field]) ? 0 : stat[field]);
  return row;
}

/** A packed IP index row as a whole SourceStat of that IP. */
export function unpackCounts(ip: string, row: PackedCounts): SourceStat {
  const stat = emptySourceStat(ip);
  SOURCE_COUNTERS.forEach((field, index) => {
    const value = row[index];
    stat[field] = typeof value === 'number' ? value : 0;
  });
  SOURCE_MAPS.forEach((field, index) => {
    const value = row[SOURCE_COUNTERS.length + index];
    if (typeof value === 'object' && value !== null) stat[field] = value;
  });
  return stat;
}

export function sourceIp(row: StoredSourceRow): string {
  return Array.isArray(row) ? row[0] : row.ip;
}

/** The counter at SOURCE_COUNTERS[index] (0 when absent). */
export function sourceCounter(row: StoredSourceRow, index: number): number {
  const value = Array.isArray(row) ? row[1 + index] : row[SOURCE_COUNTERS[index]!];
  return typeof value === 'number' ? value : Number(value ?? 0);
}

/** The map at SOURCE_MAPS[index], or null when empty or absent. */
export function sourceMap(row: StoredSourceRow, index: number): Record<string, number> | null {
  const value = Array.isArray(row) ? row[MAPS_AT + index] : row[SOURCE_MAPS[index]!];
  return typeof value === 'object' && value !== null ? value : null;
}

/** A stored row as a whole SourceStat (a whole row is returned as it is). */
export function unpackSource(row: StoredSourceRow): SourceStat {
  if (!Array.isArray(row)) return row;
  const stat = emptySourceStat(row[0]);
  SOURCE_COUNTERS.forEach((field, index) => (stat[field] = sourceCounter(row, index)));
  SOURCE_MAPS.forEach((field, index) => {
    const map = sourceMap(row, index);
    if (map) stat[field] = map;
  });
  return stat;
}
