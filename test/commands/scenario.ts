// A generated history whose right answers are known by construction, ingested into a real SQLite
// store. Domain example.com, reports from google.com for 2026-06-01 .. 2026-06-29:
//   192.0.2.10      own server, 100 a day, SPF and DKIM aligned
//   198.51.100.20   forgotten sender, 20 a day, SPF passes for bounce.esp.example (unaligned), no DKIM
//   209.85.220.41   Google (a mailbox provider) forwarding, 5 a day, our DKIM broken by the relay
//   203.0.113.66-70 spoofing burst on 2026-06-20 only, 40 each, nothing authenticates
// plus one mail.ru report spanning 3 days (2026-06-10 .. 2026-06-12) with 300 messages of 192.0.2.10.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AggregateRecord, AggregateReport } from '../../src/model.ts';
import { organizationalDomain } from '../../src/reader/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { ReportStore } from '../../src/store/types.ts';
import { addDays } from '../../src/insight/stats.ts';

export const DOMAIN = 'example.com';
export const FIRST_DAY = '2026-06-01';
export const LAST_DAY = '2026-06-29';
export const DAYS = 29;
export const NOW = new Date('2026-06-30T12:00:00Z');
export const OWN = '192.0.2.10';
export const FORGOTTEN = '198.51.100.20';
export const GOOGLE = '209.85.220.41';
export const SPOOFERS = ['203.0.113.66', '203.0.113.67', '203.0.113.68', '203.0.113.69', '203.0.113.70'];
export const SPOOF_DAY = '2026-06-20';

interface RecordSpec {
  spf?: Array<[domain: string, result: string]>;
  dkim?: Array<[domain: string, result: string]>;
  reasons?: string[];
}

/** A record with the reporter's evaluation and our alignment worked out from the auth results. */
export function record(ip: string, count: number, spec: RecordSpec, headerFrom = DOMAIN): AggregateRecord {
  const org = organizationalDomain(headerFrom);
  const spf = spec.spf ?? [];
  const dkim = spec.dkim ?? [];
  const spfAligned = spf.some(([domain, result]) => result === 'pass' && organizationalDomain(domain) === org);
  const dkimAligned = dkim.some(([domain, result]) => result === 'pass' && organizationalDomain(domain) === org);
  return {
    sourceIp: ip,
    count,
    disposition: 'none',
    evaluated: { dkim: dkimAligned ? 'pass' : 'fail', spf: spfAligned ? 'pass' : 'fail' },
    dmarc: spfAligned || dkimAligned ? 'pass' : 'fail',
    identifiers: { headerFrom, envelopeFrom: spf[0]?.[0] ?? null, envelopeTo: null },
    reasons: (spec.reasons ?? []).map((type) => ({ type, comment: null })),
    authResults: {
      dkim: dkim.map(([domain, result]) => ({ domain, selector: 's1', result })),
      spf: spf.map(([domain, result]) => ({ domain, scope: 'mfrom', result })),
    },
    alignment: {
      dkim: dkimAligned,
      spf: spfAligned,
      spfUnalignedPass: spf.filter(([d, r]) => r === 'pass' && organizationalDomain(d) !== org).map(([d]) => d),
      dkimUnalignedPass: dkim.filter(([d, r]) => r === 'pass' && organizationalDomain(d) !== org).map(([d]) => d),
    },
  };
}

export function report(
  orgName: string,
  reportId: string,
  begin: string,
  end: string,
  records: AggregateRecord[],
  p = 'none',
): AggregateReport {
  return {
    kind: 'aggregate',
    version: '1.0',
    orgName,
    orgEmail: `dmarc@${orgName}`,
    reportId,
    begin,
    end,
    policy: { domain: DOMAIN, p, sp: null, np: null, pct: null, adkim: 'r', aspf: 'r', fo: null, testing: null },
    records,
    errors: [],
  };
}

export function scenarioReports(): AggregateReport[] {
  const reports: AggregateReport[] = [];
  for (let index = 0; index < DAYS; index++) {
    const day = addDays(FIRST_DAY, index);
    const records = [
      record(OWN, 100, { spf: [[DOMAIN, 'pass']], dkim: [[DOMAIN, 'pass']] }),
      record(FORGOTTEN, 20, { spf: [['bounce.esp.example', 'pass']] }),
      record(GOOGLE, 5, {
        spf: [['gmail.com', 'pass']],
        dkim: [[DOMAIN, 'fail']],
        reasons: index % 2 ? ['forwarded'] : [],
      }),
    ];
    if (day === SPOOF_DAY) records.push(...SPOOFERS.map((ip) => record(ip, 40, { spf: [[DOMAIN, 'fail']] })));
    reports.push(report('google.com', `g-${day}`, `${day}T00:00:00.000Z`, `${day}T23:59:59.000Z`, records));
  }
  reports.push(
    report('mail.ru', 'mr-3days', '2026-06-10T00:00:00.000Z', '2026-06-12T23:59:59.000Z', [
      record(OWN, 300, { spf: [[DOMAIN, 'pass']], dkim: [[DOMAIN, 'pass']] }),
    ]),
  );
  return reports;
}

export interface TestStore {
  store: ReportStore;
  url: string;
  close(): Promise<void>;
}

/** A fresh SQLite store in a temp folder, with the given reports ingested (received the day after they end). */
export async function storeWith(reports: readonly AggregateReport[]): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'dmarc-commands-'));
  const url = `sqlite://${join(dir, 'store.sqlite')}`;
  const store = await openStore(url);
  for (const one of reports) {
    const receivedAt = new Date(Date.parse(one.end) + 6 * 3_600_000);
    await store.ingest(one, `test:${one.reportId}`, receivedAt);
  }
  await store.flush();
  return {
    store,
    url,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
