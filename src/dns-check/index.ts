// Published-record checks of a domain: DMARC, report destinations, SPF, DKIM keys, MX, MTA-STS
// and TLS-RPT. `dnsChecks` is pure over fetched records; `checkDomainDns` fetches and checks.

import { dkimSelectorsCheck } from './dkim.ts';
import { dmarcRecordCheck, dmarcTestingCheck } from './dmarc.ts';
import { fetchDnsRecords, type FetchInput } from './fetch.ts';
import { ruaCheck } from './rua.ts';
import { spfLookupsCheck, spfRecordCheck, spfSendersCheck } from './spf.ts';
import { mtaStsCheck, mxCheck, tlsRptCheck } from './transport.ts';
import type { DnsCheck, DnsRecords, DnsReport, LegitimateSender } from './types.ts';

export type * from './types.ts';
export { fetchDnsRecords, type FetchInput } from './fetch.ts';
export { parseDmarcRecord, suggestedDmarc, effectiveDmarc } from './dmarc.ts';
export { readDkimKey } from './dkim.ts';
export { countLookups } from './spf.ts';

export function dnsChecks(records: DnsRecords, senders: readonly LegitimateSender[] = []): DnsCheck[] {
  const { domain } = records;
  const spfUsable = records.spf.records.status === 'found' && records.spf.records.value.length === 1;
  const announced =
    records.mtaSts.records.status === 'found' && records.mtaSts.records.value.some((text) => /^v=STSv1\b/i.test(text));
  const checks: Array<DnsCheck | null> = [
    dmarcRecordCheck(domain, records.dmarc),
    dmarcTestingCheck(domain, records.dmarc),
    ruaCheck(records.dmarc, records.ruaAuthorisations),
    spfRecordCheck(domain, records.spf),
    spfLookupsCheck(domain, records.spf),
    spfUsable ? spfSendersCheck(domain, senders, records.spfSenders) : null,
    dkimSelectorsCheck(records.dkim),
    mxCheck(domain, records.mx),
    mtaStsCheck(domain, records.mtaSts, records.mtaStsFile, records.mx),
    tlsRptCheck(domain, records.tlsRpt, announced),
  ];
  return checks.filter((check): check is DnsCheck => check !== null);
}

export async function checkDomainDns(input: FetchInput): Promise<DnsReport> {
  const records = await fetchDnsRecords(input);
  return { domain: input.domain, checks: dnsChecks(records, input.senders ?? []), records };
}

/** The checks that make a domain unable to enforce DMARC safely. */
export function dnsBlockers(checks: readonly DnsCheck[]): DnsCheck[] {
  return checks.filter((check) => !check.ok && check.checked && check.severity === 'error');
}
