// The owner's decisions (`mark <ip or sender> mine|spoof|clear`) as the mark command changes them:
// an existing mark is matched case-insensitively; a new one is checked against recent reports, so
// that a typo is pointed out and a mark that would reclassify a recognised service or a source
// that passes is asked to be confirmed first.

import type { Mark, MarkVerdict, ReportStore } from '../store/types.ts';
import type { Identify, ReadinessThresholds } from './types.ts';
import { querySources } from './queries.ts';
import { windowEnding } from './stats.ts';

/** How far back a newly marked subject is looked for. */
export const MARK_LOOKBACK_DAYS = 90;

/** The longest subject accepted: an IPv6 address or a sender name fits easily. */
export const MARK_SUBJECT_MAX = 200;

export interface MarkSubject {
  /** the subject as stored: an IP in its canonical form, else the text as given */
  text: string;
  /** whether the subject is an IP address (else a sender name or key as ready/sources show it) */
  isIp: boolean;
}

/** What recent reports say about a subject. */
export interface SeenSource {
  messages: number;
  dmarcPass: number;
  /** the recognised service it belongs to, when any */
  service: string | null;
  aligned: boolean;
  /** its share of all messages in the window */
  share: number;
}

export type MarkOutcome =
  | { kind: 'stored'; mark: Mark; seen: SeenSource | null }
  /** not stored: the subject is a recognised service or passes; `force` confirms */
  | { kind: 'needs-force'; seen: SeenSource; reason: 'service' | 'aligned' };

export interface MarkCleared {
  subject: string;
  /** the mark that was removed, null when there was none */
  cleared: Mark | null;
}

/** An IP's or a sender's recent figures, null when it does not appear (a typo). */
export async function seenRecently(
  store: ReportStore,
  identify: Identify,
  subject: MarkSubject,
  now: Date,
  thresholds: ReadinessThresholds,
): Promise<SeenSource | null> {
  const recent = await querySources(store, identify, MARK_LOOKBACK_DAYS, now, {
    limit: Number.MAX_SAFE_INTEGER,
    thresholds,
  });
  if (subject.isIp) {
    const window = windowEnding(now, MARK_LOOKBACK_DAYS);
    const entries = await store.ipEntries(subject.text, window.from, window.to);
    if (entries.length === 0) return null;
    const messages = entries.reduce((sum, entry) => sum + entry.messages, 0);
    const dmarcPass = entries.reduce((sum, entry) => sum + entry.dmarcPass, 0);
    const group = recent.sources.find((source) => source.ips.includes(subject.text));
    return {
      messages,
      dmarcPass,
      service: group?.by === 'known' ? group.sender : null,
      aligned: messages > 0 && dmarcPass / messages >= thresholds.alignedPassRate,
      share: recent.messages > 0 ? messages / recent.messages : 0,
    };
  }
  const lower = subject.text.toLowerCase();
  const source = recent.sources.find((s) => s.key.toLowerCase() === lower || s.sender.toLowerCase() === lower);
  if (!source) return null;
  return {
    messages: source.messages,
    dmarcPass: source.dmarcPass,
    service: source.by === 'known' ? source.sender : null,
    aligned: source.class === 'aligned',
    share: source.share,
  };
}

/** Stores a verdict about a subject, with who decided and when, unless it needs `force` first. */
export async function setMark(
  store: ReportStore,
  identify: Identify,
  input: {
    subject: MarkSubject;
    verdict: MarkVerdict;
    by: string;
    now: Date;
    force: boolean;
    thresholds: ReadinessThresholds;
  },
): Promise<MarkOutcome> {
  const seen = await seenRecently(store, identify, input.subject, input.now, input.thresholds);
  // A mark overrides what the reports show: `mark Mailchimp spoof` would call half the mail spoofed.
  if (seen && (seen.service || seen.aligned) && !input.force)
    return { kind: 'needs-force', seen, reason: seen.service ? 'service' : 'aligned' };
  const mark: Mark = { subject: input.subject.text, verdict: input.verdict, by: input.by, at: input.now.toISOString() };
  await store.setMark(mark);
  return { kind: 'stored', mark, seen };
}

/** Removes the mark of a subject, matched case-insensitively. */
export async function clearMark(store: ReportStore, subject: MarkSubject): Promise<MarkCleared> {
  const lower = subject.text.toLowerCase();
  const existing = Object.values(await store.marks()).find((mark) => mark.subject.toLowerCase() === lower);
  await store.clearMark(existing?.subject ?? subject.text);
  return { subject: subject.text, cleared: existing ?? null };
}
