// Values as they enter the model: text without terminal escapes or control characters, numbers
// that are safe integers, instants inside the years reports can come from. Shared by the XML,
// JSON and mail readers so each field is checked the same way wherever it comes from.

// CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL|ST`) and two-byte escapes: they recolour or rewrite
// a terminal when shown, so they are dropped whole, not just their ESC.
const ANSI_ESCAPE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?/g;
// C0 and C1 controls, DEL, and bidirectional overrides that reorder what a reader sees
const CONTROL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const HAS_CONTROL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** Text for one line of display: escapes removed, other controls (tabs, line breaks) made spaces. */
export function cleanText(value: string): string {
  if (!HAS_CONTROL.test(value)) return value;
  const text = value.includes('\x1b') ? value.replace(ANSI_ESCAPE, '') : value;
  return text.replace(CONTROL, ' ').replace(/ {2,}/g, ' ').trim();
}

/** Longest text kept for identifiers (org name, report id, email) and for domains (RFC 1035). */
export const MAX_NAME_LENGTH = 255;
export const MAX_DOMAIN_LENGTH = 253;
/** Free text (comments, human results) is cut here, with a note. */
export const MAX_FREE_TEXT_LENGTH = 255;

/**
 * A count or other whole number: digits, white space allowed, an integral decimal fraction
 * (`1337270400.0`) accepted; null for anything else, negatives and values past 2^53 included.
 */
export function safeInteger(value: string | null): number | null {
  if (value === null) return null;
  const compact = value.replace(/\s+/g, '');
  const match = /^(\d{1,16})(?:\.0*)?$/.exec(compact);
  if (!match) return null;
  const number = Number(match[1]);
  return Number.isSafeInteger(number) ? number : null;
}

/** Reports cannot come from before DMARC was in use, nor from far in the future. */
export const EARLIEST_REPORT_TIME = Date.UTC(2012, 0, 1);
export const MAX_FUTURE_DAYS = 7;

export type InstantProblem = 'too-early' | 'too-late';

/** Whether an instant lies in the sane window relative to `now`; the problem when it does not. */
export function instantProblem(ms: number, now: Date): InstantProblem | null {
  if (ms < EARLIEST_REPORT_TIME) return 'too-early';
  if (ms > now.getTime() + MAX_FUTURE_DAYS * 86_400_000) return 'too-late';
  return null;
}

export function describeWindow(now: Date): string {
  const latest = new Date(now.getTime() + MAX_FUTURE_DAYS * 86_400_000).toISOString().slice(0, 10);
  return `2012-01-01 to ${latest}`;
}
