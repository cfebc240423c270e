// The digest mentions a DMARC record that changed in DNS. The last record seen of each domain is
// kept in the store's state; a change is remembered with its time, so every destination whose
// digest period covers that time mentions it (not only the first digest built after it).

import type { ReplyBlock } from '../reply/model.ts';
import type { ReportStore } from '../store/types.ts';
import type { RecordResolver } from '../net/dns-records.ts';
import { effectiveDmarc } from './dmarc.ts';
import { walkDmarc } from './fetch.ts';

export interface PublishedRecordState {
  /** where the record was found and its text; "" when the domain published none */
  name: string;
  record: string;
  seenAt: string;
  /** the last change: what was published before, and when the change was first seen */
  change: { name: string; record: string; seenAt: string } | null;
}

export interface RecordChange {
  domain: string;
  before: string;
  after: string;
  name: string;
  seenAt: string;
}

const MAX_DOMAINS = 20;

export function recordStateName(domain: string): string {
  return `digest-dmarc-record:${domain}`;
}

/** Looks up each domain's DMARC record, remembers it, and returns the changes first seen in [since, now]. */
export async function dmarcRecordChanges(
  store: Pick<ReportStore, 'getState' | 'setState'>,
  resolver: RecordResolver,
  domains: readonly string[],
  since: Date,
  now: Date,
): Promise<RecordChange[]> {
  const changes: RecordChange[] = [];
  const picked = domains.slice(0, MAX_DOMAINS);
  const walks = await Promise.all(picked.map((domain) => walkDmarc(resolver, domain)));
  for (const [index, domain] of picked.entries()) {
    const walk = walks[index]!;
    // a DNS failure says nothing about the record: keep what was seen
    if (walk.some((at) => at.records.status === 'error')) continue;
    const effective = effectiveDmarc(walk);
    const current = {
      name: effective?.at.name ?? `_dmarc.${domain}`,
      record: effective ? effective.texts.join(' | ') : '',
    };
    const stored = await store.getState<PublishedRecordState>(recordStateName(domain));
    let state: PublishedRecordState;
    if (!stored) state = { ...current, seenAt: now.toISOString(), change: null };
    else if (stored.record !== current.record || stored.name !== current.name)
      state = {
        ...current,
        seenAt: now.toISOString(),
        change: { name: stored.name, record: stored.record, seenAt: now.toISOString() },
      };
    else state = { ...stored, seenAt: now.toISOString() };
    await store.setState(recordStateName(domain), state);
    if (state.change && Date.parse(state.change.seenAt) >= since.getTime())
      changes.push({
        domain,
        before: state.change.record,
        after: state.record,
        name: state.name,
        seenAt: state.change.seenAt,
      });
  }
  return changes;
}

export function recordChangeBlocks(changes: readonly RecordChange[]): ReplyBlock[] {
  if (changes.length === 0) return [];
  return [
    {
      type: 'list',
      title: 'Published DMARC records that changed',
      tone: 'warning',
      items: changes.map(
        (change) =>
          `${change.domain}: ${change.name} now "${change.after || 'no record'}" (was "${change.before || 'no record'}")`,
      ),
    },
  ];
}
