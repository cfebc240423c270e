// `failures` and `tls`: the failure reports (RFC 6591) and SMTP TLS reports (RFC 8460) the store
// holds, as lists sorted by what needs action first.

import type { StoredFailure, StoredTlsPolicy } from '../store/types.ts';
import type { CountRow, DayWindow } from './types.ts';
import { rows } from './stats.ts';

export interface FailuresInsight {
  window: DayWindow;
  /** distinct failure reports */
  count: number;
  /** newest first */
  reports: Array<{
    reportKey: string;
    arrival: string | null;
    received: string;
    reporter: string | null;
    domain: string | null;
    sourceIp: string | null;
    authFailure: string[];
    headerFrom: string | null;
    feedbackType: string | null;
  }>;
  /** reports per source IP, largest first */
  bySource: CountRow[];
}

export function failuresInsight(failures: readonly StoredFailure[], window: DayWindow): FailuresInsight {
  const seen = new Map<string, FailuresInsight['reports'][number]>();
  for (const failure of failures) {
    if (seen.has(failure.reportKey)) continue;
    seen.set(failure.reportKey, {
      reportKey: failure.reportKey,
      arrival: failure.arrivalDate,
      received: failure.ingestedAt,
      reporter: failure.reporter ?? failure.userAgent ?? null,
      domain: failure.reportedDomain,
      sourceIp: failure.sourceIp,
      authFailure: failure.authFailure,
      headerFrom: failure.headerFrom,
      feedbackType: failure.feedbackType ?? null,
    });
  }
  const reports = [...seen.values()].sort((a, b) => {
    const at = (report: typeof a) => report.arrival ?? report.received;
    return at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : a.reportKey < b.reportKey ? -1 : 1;
  });
  const bySource = new Map<string, number>();
  for (const report of reports) {
    const key = report.sourceIp ?? '-';
    bySource.set(key, (bySource.get(key) ?? 0) + 1);
  }
  return { window, count: reports.length, reports, bySource: rows(Object.fromEntries(bySource)) };
}

export interface TlsInsight {
  window: DayWindow;
  /** distinct TLS reports */
  count: number;
  successful: number;
  failed: number;
  /** per policy (domain and type), those with failures first */
  policies: Array<{
    domain: string;
    type: string;
    reports: number;
    successful: number;
    failed: number;
    failureTypes: CountRow[];
  }>;
}

export function tlsInsight(results: readonly StoredTlsPolicy[], window: DayWindow): TlsInsight {
  const reportKeys = new Set<string>();
  const seen = new Set<string>();
  const byPolicy = new Map<
    string,
    {
      domain: string;
      type: string;
      reports: Set<string>;
      successful: number;
      failed: number;
      types: Map<string, number>;
    }
  >();
  let successful = 0;
  let failed = 0;
  for (const result of results) {
    // The same policy result can be read from more than one day document.
    const once = `${result.reportKey}\u0000${result.domain}\u0000${result.type}\u0000${result.strings.join(' ')}`;
    if (seen.has(once)) continue;
    seen.add(once);
    reportKeys.add(result.reportKey);
    const key = `${result.domain.toLowerCase()}\u0000${result.type}`;
    let policy = byPolicy.get(key);
    if (!policy) {
      policy = {
        domain: result.domain.toLowerCase(),
        type: result.type,
        reports: new Set(),
        successful: 0,
        failed: 0,
        types: new Map(),
      };
      byPolicy.set(key, policy);
    }
    policy.reports.add(result.reportKey);
    policy.successful += result.successful;
    policy.failed += result.failed;
    successful += result.successful;
    failed += result.failed;
    for (const failure of result.failures)
      policy.types.set(failure.resultType, (policy.types.get(failure.resultType) ?? 0) + failure.count);
  }
  const policies = [...byPolicy.values()]
    .map((policy) => ({
      domain: policy.domain,
      type: policy.type,
      reports: policy.reports.size,
      successful: policy.successful,
      failed: policy.failed,
      failureTypes: rows(Object.fromEntries(policy.types)),
    }))
    .sort((a, b) => b.failed - a.failed || b.successful - a.successful || (a.domain < b.domain ? -1 : 1));
  return { window, count: reportKeys.size, successful, failed, policies };
}
