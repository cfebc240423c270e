// The owner's decisions (`mark <ip or sender> mine|spoof|clear`) as the mark command changes them:
// an existing mark is matched case-insensitively, and a new one is checked against recent reports
// so that a typo in the subject is pointed out.

import type { Mark, MarkVerdict, ReportStore } from '../store/types.ts';
import type { Identify } from './types.ts';
import { querySources } from './queries.ts';
import { windowEnding } from './stats.ts';

/** How far back a newly marked subject is looked for. */
export const MARK_LOOKBACK_DAYS = 90;

export interface MarkSubject {
  /** the subject as stored: an IP in its canonical form, else the text as given */
  text: string;
  /** whether the subject is an IP address (else a sender name or key as ready/sources show it) */
  isIp: boolean;
}

export interface MarkSet {
  mark: Mark;
  /** whether the subject appears in the reports of the last MARK_LOOKBACK_DAYS days */
  seen: boolean;
}

export interface MarkCleared {
  subject: string;
  /** the mark that was removed, null when there was none */
  cleared: Mark | null;
}

/** Whether an IP or a sender name appears in recent reports. */
async function seenRecently(store: ReportStore, identify: Identify, subject: MarkSubject, now: Date): Promise<boolean> {
  if (subject.isIp) {
    const window = windowEnding(now, MARK_LOOKBACK_DAYS);
    return (await store.ipEntries(subject.text, window.from, window.to)).length > 0;
  }
  const lower = subject.text.toLowerCase();
  const recent = await querySources(store, identify, MARK_LOOKBACK_DAYS, now, { limit: Number.MAX_SAFE_INTEGER });
  return recent.sources.some((source) => source.key.toLowerCase() === lower || source.sender.toLowerCase() === lower);
}

/** Stores a verdict about a subject, with who decided and when. */
export async function setMark(
  store: ReportStore,
  identify: Identify,
  input: { subject: MarkSubject; verdict: MarkVerdict; by: string; now: Date },
): Promise<MarkSet> {
  const mark: Mark = { subject: input.subject.text, verdict: input.verdict, by: input.by, at: input.now.toISOString() };
  await store.setMark(mark);
  return { mark, seen: await seenRecently(store, identify, input.subject, input.now) };
}

/** Removes the mark of a subject, matched case-insensitively. */
export async function clearMark(store: ReportStore, subject: MarkSubject): Promise<MarkCleared> {
  const lower = subject.text.toLowerCase();
  const existing = Object.values(await store.marks()).find((mark) => mark.subject.toLowerCase() === lower);
  await store.clearMark(existing?.subject ?? subject.text);
  return { subject: subject.text, cleared: existing ?? null };
}
