// Builders of store documents whose right answers are known by construction: each helper makes the
// figures of one kind of traffic, and `history` lays them out as day documents of one domain.

import type { PolicyPublished } from '../../src/model.ts';
import type { DayDoc, DayReportPart, IpEntry, SourceStat } from '../../src/store/types.ts';
import type { SenderIdentity } from '../../src/insight/types.ts';
import { addDays } from '../../src/insight/stats.ts';

function stat(ip: string, n: number, fields: Partial<SourceStat>): SourceStat {
  return {
    ip,
    messages: n,
    dmarcPass: 0,
    spfPass: 0,
    dkimPass: 0,
    spfAligned: 0,
    dkimAligned: 0,
    dispositions: { none: n },
    reasons: {},
    headerFrom: {},
    spf: {},
    dkim: {},
    spfUnalignedPass: 0,
    dkimUnalignedPass: 0,
    ...fields,
  };
}

/** Own server: SPF and DKIM pass, both aligned. */
export function aligned(ip: string, n: number, domain: string): SourceStat {
  return stat(ip, n, {
    dmarcPass: n,
    spfPass: n,
    dkimPass: n,
    spfAligned: n,
    dkimAligned: n,
    headerFrom: { [domain]: n },
    spf: { [`${domain} pass`]: n },
    dkim: { [`${domain} s1 pass`]: n },
  });
}

/** A sender whose SPF passes for its own bounce domain, without a DKIM signature: never aligned. */
export function spfUnaligned(ip: string, n: number, domain: string, spfDomain: string): SourceStat {
  return stat(ip, n, { headerFrom: { [domain]: n }, spf: { [`${spfDomain} pass`]: n }, spfUnalignedPass: n });
}

/** An ESP that signs with its own d= only and uses its own return path. */
export function dkimUnaligned(ip: string, n: number, domain: string, dkimDomain: string): SourceStat {
  return stat(ip, n, {
    headerFrom: { [domain]: n },
    spf: { [`${domain} softfail`]: n },
    dkim: { [`${dkimDomain} esp pass`]: n },
    dkimUnalignedPass: n,
  });
}

/** Nothing authenticates: no DKIM signature, SPF fails (spoofing, or an unlisted relay). */
export function noAuth(ip: string, n: number, domain: string, disposition = 'none'): SourceStat {
  return stat(ip, n, {
    headerFrom: { [domain]: n },
    spf: { [`${domain} fail`]: n },
    dispositions: { [disposition]: n },
  });
}

/** Forwarded by a mailbox provider: our DKIM signature broken on the way, SPF for the forwarder. */
export function forwarded(ip: string, n: number, domain: string, reason = false): SourceStat {
  return stat(ip, n, {
    headerFrom: { [domain]: n },
    spf: { [`forwarder.example pass`]: n },
    dkim: { [`${domain} s1 fail`]: n },
    spfUnalignedPass: n,
    reasons: reason ? { forwarded: n } : {},
  });
}

/** A legitimate sender whose mail passes through aligned SPF alone: no DKIM signature. */
export function spfOnly(ip: string, n: number, domain: string): SourceStat {
  return stat(ip, n, {
    dmarcPass: n,
    spfPass: n,
    spfAligned: n,
    headerFrom: { [domain]: n },
    spf: { [`${domain} pass`]: n },
  });
}

/**
 * A mailing list: it changed the message (our DKIM signature fails) and signed it with its own
 * domain; SPF passes for the list's bounce domain.
 */
export function mailingList(ip: string, n: number, domain: string, reason = false): SourceStat {
  return stat(ip, n, {
    headerFrom: { [domain]: n },
    spf: { [`lists.example.org pass`]: n },
    dkim: { [`${domain} s1 fail`]: n, [`lists.example.org list pass`]: n },
    spfUnalignedPass: n,
    dkimUnalignedPass: n,
    reasons: reason ? { mailing_list: n } : {},
  });
}

/** Passes for `pass` of its `n` messages (DKIM aligned sometimes). */
export function mixed(ip: string, n: number, pass: number, domain: string): SourceStat {
  return stat(ip, n, {
    dmarcPass: pass,
    dkimPass: pass,
    dkimAligned: pass,
    headerFrom: { [domain]: n },
    spf: { [`${domain} fail`]: n },
    dkim: { [`${domain} s1 pass`]: pass, [`${domain} s1 fail`]: n - pass },
  });
}

export function policy(domain: string, p: string, extra: Partial<PolicyPublished> = {}): PolicyPublished {
  return { domain, p, sp: null, np: null, pct: null, adkim: 'r', aspf: 'r', fo: null, testing: null, ...extra };
}

export interface HistoryOptions {
  domain: string;
  /** last UTC day of the history */
  endDay: string;
  days: number;
  policy: PolicyPublished;
  /** the sources of day `index` (0 = first day); an empty list means no report that day */
  perDay: (index: number, date: string) => SourceStat[];
  orgName?: string;
  /** ingestion time of a day's report (default: the next day 06:00 UTC) */
  ingestedAt?: (date: string) => string;
}

/** One report a day from one reporter, as the store would keep it. */
export function history(options: HistoryOptions): DayDoc[] {
  const docs: DayDoc[] = [];
  const orgName = options.orgName ?? 'google.com';
  for (let index = 0; index < options.days; index += 1) {
    const date = addDays(options.endDay, index - options.days + 1);
    const sources = options.perDay(index, date);
    const doc: DayDoc = { domain: options.domain, date, reports: {} };
    if (sources.length) {
      const reportKey = `${orgName}|${options.domain}|${date}`;
      doc.reports[reportKey] = part(
        reportKey,
        orgName,
        `${orgName}-${date}`,
        `${date}T00:00:00.000Z`,
        `${date}T23:59:59.000Z`,
        options.policy,
        sources,
        options.ingestedAt ? options.ingestedAt(date) : `${addDays(date, 1)}T06:00:00.000Z`,
      );
    }
    docs.push(doc);
  }
  return docs;
}

export function part(
  reportKey: string,
  orgName: string,
  reportId: string,
  begin: string,
  end: string,
  policyPublished: PolicyPublished,
  sources: SourceStat[],
  ingestedAt: string,
): DayReportPart {
  return {
    reportKey,
    orgName,
    orgEmail: null,
    reportId,
    begin,
    end,
    ingestedAt,
    policy: policyPublished,
    messages: sources.reduce((sum, source) => sum + source.messages, 0),
    sources,
  };
}

/** Merges day documents of the same domain and day (several reporters, several builders). */
export function mergeDays(...lists: DayDoc[][]): DayDoc[] {
  const byKey = new Map<string, DayDoc>();
  for (const doc of lists.flat()) {
    const key = `${doc.domain}|${doc.date}`;
    const into = byKey.get(key);
    if (into) Object.assign(into.reports, doc.reports);
    else byKey.set(key, { ...doc, reports: { ...doc.reports } });
  }
  return [...byKey.values()];
}

/** The IP-index rows of day documents, as the store derives them. */
export function ipEntries(days: DayDoc[], ip: string): IpEntry[] {
  const rows: IpEntry[] = [];
  for (const doc of days) {
    for (const [reportKey, p] of Object.entries(doc.reports)) {
      for (const source of p.sources)
        if (source.ip === ip)
          rows.push({ ...source, domain: doc.domain, date: doc.date, reportKey, orgName: p.orgName });
    }
  }
  return rows;
}

export function identity(ip: string, fields: Partial<SenderIdentity> = {}): SenderIdentity {
  return {
    key: ip,
    name: ip,
    by: 'ip',
    service: null,
    forwarder: false,
    ptr: null,
    asn: null,
    asName: null,
    country: null,
    ...fields,
  };
}
