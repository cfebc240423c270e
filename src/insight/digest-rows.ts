// What the digest reads of a day whose every report part is of its period: the day's summary rows
// are then exactly the period's figures on that day, so the day document (every part's sources,
// several times the summary's size) is not read. Rows are read from the stored columns; a row
// becomes a SourceStat only for the few sources the digest lists.

import type { SourceStat } from '../store/types.ts';
import { pairKey, pairOffsets, ROW_MAPS, ROW_WIDTH, rowNumber, type StoredDaySummary } from '../store/summary.ts';
import { own } from '../store/dict.ts';

const WIDTH = ROW_MAPS.length;
const COUNTERS = [
  'messages',
  'dmarcPass',
  'spfPass',
  'dkimPass',
  'spfAligned',
  'dkimAligned',
  'spfUnalignedPass',
  'dkimUnalignedPass',
] as const;

/** Adds one stored row's counters and count maps to `into` (as addStat adds a source). */
export function addRow(into: SourceStat, stored: StoredDaySummary, row: number): SourceStat {
  const base = row * ROW_WIDTH;
  for (let c = 0; c < COUNTERS.length; c++) into[COUNTERS[c]!] += rowNumber(stored.counts[base + c]);
  const maps = [into.dispositions, into.reasons, into.headerFrom, into.spf, into.dkim];
  const { keys, pairs } = stored;
  const starts = pairOffsets(stored);
  for (let at = starts[row]!; at < starts[row + 1]!; at += 2) {
    const code = pairKey(pairs[at], keys.length);
    if (code < 0) continue;
    const map = maps[code % WIDTH]!;
    const key = String(keys[(code / WIDTH) | 0]);
    map[key] = (own(map, key) ?? 0) + rowNumber(pairs[at + 1]);
  }
  return into;
}
