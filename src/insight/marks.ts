// Looks up the owner's marks (`mark <ip or sender> mine|spoof`) for an IP or a sender group.

import type { MarksDoc, MarkVerdict } from '../store/types.ts';
import type { SenderIdentity } from './types.ts';

export type MarkLookup = (subject: string) => MarkVerdict | null;

/** Case-insensitive lookup over the subjects of every mark. */
export function markLookup(marks: MarksDoc | null | undefined): MarkLookup {
  const bySubject = new Map<string, MarkVerdict>();
  for (const key in marks ?? {}) {
    const mark = marks![key]!;
    bySubject.set(mark.subject.trim().toLowerCase(), mark.verdict);
  }
  // Called for every IP of a busy month: answer without string work when nothing is marked.
  if (bySubject.size === 0) return () => null;
  return (subject) => (subject ? (bySubject.get(subject.trim().toLowerCase()) ?? null) : null);
}

/** The mark of a sender group: by its key or its shown name (an IP's own mark is looked up separately). */
export function groupMark(lookup: MarkLookup, identity: Pick<SenderIdentity, 'key' | 'name'>): MarkVerdict | null {
  return lookup(identity.key) ?? lookup(identity.name);
}

/** The mark that applies to one IP: its own, else its sender group's. */
export function ipMark(
  lookup: MarkLookup,
  ip: string,
  identity: Pick<SenderIdentity, 'key' | 'name'> | null,
): MarkVerdict | null {
  return lookup(ip) ?? (identity ? groupMark(lookup, identity) : null);
}
