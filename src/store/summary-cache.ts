// Parsed day summaries by their stored text. A bot answers `ready`, the digest and `summary` over
// the same month again and again, and between two ingests only the newest days change: a summary
// whose stored text is the same as last time is not parsed again. Keyed by the whole text (equal
// text, equal document), so a changed or rewritten summary is always parsed afresh; nothing else is
// kept (day documents, state and the catalog are read-modify-written and must stay private copies).
// The parsed summaries are shared between reads and must not be modified (insight only reads them).

import { isStoredSummary, SUMMARY_VERSION } from './summary.ts';

/** Texts shorter than this are parsed every time (small documents cost little to parse). */
export const MIN_TEXT = 16_384;
/**
 * Bytes of heap an entry holds per character of its text: the text itself (the key) and the
 * parsed document, whose strings and number arrays took about 3x the text (measured: 25 MB of
 * heap freed for 6.8 MB of text on the 200-a-day bench store).
 */
const BYTES_PER_CHAR = 4;
/** Heap the remembered summaries may hold: a month of a busy domain's days (about 90 at 200 reports a day). */
export const MAX_BYTES = 64 * 1024 * 1024;
/** Unused this long, every remembered summary is let go (a bot idles for hours between queries). */
const IDLE_MS = 10 * 60_000;

const parsed = new Map<string, unknown>();
let kept = 0;
let idle: ReturnType<typeof setTimeout> | null = null;

/** Pushes the release back by IDLE_MS (the timer does not keep the process alive). */
function touch(): void {
  if (idle) idle.refresh();
  else (idle = setTimeout(clearParsedSummaries, IDLE_MS)).unref();
}

/** JSON.parse, with the stored summaries of the current layout remembered by their text. */
export function parseStored(text: string): ReturnType<typeof JSON.parse> {
  if (typeof text !== 'string' || text.length < MIN_TEXT) return JSON.parse(text);
  const hit = parsed.get(text);
  if (hit !== undefined) {
    // most recently used last, so the oldest goes first
    parsed.delete(text);
    parsed.set(text, hit);
    touch();
    return hit;
  }
  const value: unknown = JSON.parse(text);
  if (isStoredSummary((value as { value?: unknown } | null)?.value)) {
    parsed.set(text, value);
    kept += text.length * BYTES_PER_CHAR;
    for (const [old] of parsed) {
      if (kept <= MAX_BYTES) break;
      parsed.delete(old);
      kept -= old.length * BYTES_PER_CHAR;
    }
    touch();
  }
  return value;
}

/**
 * The stored text last read under a key, while its parsed summary is remembered: a backend that
 * can compare text where it is stored (SQLite) asks whether the value is still this text instead
 * of reading it again. A busy month's texts are several MB a query, each a large string that
 * outlives the young generation and is collected only with the old one.
 */
const textByKey = new Map<string, string>();

/** The text last read under `key` (noteStoredText), if its summary is still remembered. */
export function rememberedText(key: string): string | undefined {
  const text = textByKey.get(key);
  return text !== undefined && parsed.has(text) ? text : undefined;
}

/** How a stored summary of the current layout begins (as the store writes it: `{value}`, `v` first). */
const SUMMARY_START = `{"value":{"v":${SUMMARY_VERSION},`;

/**
 * Notes the text read under `key`, kept only while its parsed summary is (see settleStoredTexts);
 * other large texts (day documents) are not noted at all.
 */
export function noteStoredText(key: string, text: string): void {
  if (text.length >= MIN_TEXT && text.startsWith(SUMMARY_START)) textByKey.set(key, text);
}

/** Lets go of the noted texts whose summaries are not remembered (call once the texts were parsed). */
export function settleStoredTexts(): void {
  for (const [key, text] of textByKey) if (!parsed.has(text)) textByKey.delete(key);
}

/** The heap the remembered summaries hold, as estimated against MAX_BYTES. */
export function parsedSummaryBytes(): number {
  return kept;
}

/** Forgets every remembered summary (tests; a process that wants its memory back; after IDLE_MS unused). */
export function clearParsedSummaries(): void {
  parsed.clear();
  textByKey.clear();
  kept = 0;
  if (idle) clearTimeout(idle);
  idle = null;
}
