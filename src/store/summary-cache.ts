// Parsed day summaries by their stored text. A bot answers `ready`, the digest and `summary` over
// the same month again and again, and between two ingests only the newest days change: a summary
// whose stored text is the same as last time is not parsed again. Keyed by the whole text (equal
// text, equal document), so a changed or rewritten summary is always parsed afresh; nothing else is
// kept (day documents, state and the catalog are read-modify-written and must stay private copies).
// The parsed summaries are shared between reads and must not be modified (insight only reads them).

import { isStoredSummary } from './summary.ts';

/** Texts shorter than this are parsed every time (small documents cost little to parse). */
const MIN_TEXT = 16_384;
/** Total stored text kept (the parsed documents take about as much again). */
const MAX_TEXT = 48 * 1024 * 1024;

const parsed = new Map<string, unknown>();
let kept = 0;

/** JSON.parse, with the stored summaries of the current layout remembered by their text. */
export function parseStored(text: string): ReturnType<typeof JSON.parse> {
  if (typeof text !== 'string' || text.length < MIN_TEXT) return JSON.parse(text);
  const hit = parsed.get(text);
  if (hit !== undefined) {
    // most recently used last, so the oldest goes first
    parsed.delete(text);
    parsed.set(text, hit);
    return hit;
  }
  const value: unknown = JSON.parse(text);
  if (isStoredSummary((value as { value?: unknown } | null)?.value)) {
    parsed.set(text, value);
    kept += text.length;
    for (const [old] of parsed) {
      if (kept <= MAX_TEXT) break;
      parsed.delete(old);
      kept -= old.length;
    }
  }
  return value;
}

/** Forgets every remembered summary (tests; a process that wants its memory back). */
export function clearParsedSummaries(): void {
  parsed.clear();
  kept = 0;
}
