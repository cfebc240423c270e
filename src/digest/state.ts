// When each destination last got a digest. The next digest starts exactly where the previous one
// ended (its `until`), so no report is missed or counted twice. One state entry per destination:
// "digest:terminal", "digest:slack:C123", "digest:discord:987".

import type { ReportStore } from '../store/types.ts';

export interface DigestState {
  /** the `until` of the last digest sent (ISO) */
  until: string;
  /** when it was sent (ISO) */
  sentAt: string;
}

export function digestStateName(destination: string): string {
  return `digest:${destination}`;
}

export async function lastDigestAt(store: Pick<ReportStore, 'getState'>, destination: string): Promise<Date | null> {
  const state = await store.getState<DigestState>(digestStateName(destination));
  const time = state ? Date.parse(state.until) : Number.NaN;
  return Number.isNaN(time) ? null : new Date(time);
}

export async function markDigestSent(
  store: Pick<ReportStore, 'setState'>,
  destination: string,
  until: Date,
  sentAt: Date = new Date(),
): Promise<void> {
  const state: DigestState = { until: until.toISOString(), sentAt: sentAt.toISOString() };
  await store.setState(digestStateName(destination), state);
}
