// Report destinations: a mailto: on another organisational domain receives reports only when that
// domain publishes "v=DMARC1" at <policy-domain>._report._dmarc.<host> (RFC 9990's external
// destination verification); without it receivers drop the reports.

import { organizationalDomain } from '../reader/alignment.ts';
import { effectiveDmarc, isDmarcText, mailtoAddress, parseDmarcRecord, splitUris } from './dmarc.ts';
import type { DnsCheck, TxtAt } from './types.ts';

/** The policy domain of a found record: the name without its "_dmarc." label. */
export function policyDomainOf(at: TxtAt): string {
  return at.name.replace(/^_dmarc\./, '');
}

/** Hosts of the rua mailto: URIs that lie on another organisational domain than the policy domain. */
export function externalRuaHosts(policyDomain: string, rua: string): string[] {
  const own = organizationalDomain(policyDomain);
  const hosts: string[] = [];
  for (const uri of splitUris(rua)) {
    const host = mailtoAddress(uri)?.split('@')[1];
    if (host && organizationalDomain(host) !== own && !hosts.includes(host)) hosts.push(host);
  }
  return hosts;
}

export function authorisationName(policyDomain: string, host: string): string {
  return `${policyDomain}._report._dmarc.${host}`;
}

export function ruaCheck(found: readonly TxtAt[], authorisations: readonly TxtAt[]): DnsCheck | null {
  const effective = effectiveDmarc(found);
  if (!effective || effective.texts.length !== 1) return null;
  const record = parseDmarcRecord(effective.texts[0]!);
  const policyDomain = policyDomainOf(effective.at);
  const rua = record.tags.get('rua');
  if (!rua || splitUris(rua).length === 0) {
    return {
      id: 'rua',
      ok: false,
      severity: 'warning',
      checked: true,
      detail: `the DMARC record of ${policyDomain} has no rua= tag: no aggregate reports are sent`,
      fix: `add rua=mailto:dmarc-reports@${policyDomain} to the record at ${effective.at.name}`,
    };
  }
  const missing: string[] = [];
  const unknown: string[] = [];
  for (const host of externalRuaHosts(policyDomain, rua)) {
    const name = authorisationName(policyDomain, host);
    const lookup = authorisations.find((at) => at.name === name)?.records;
    if (!lookup || lookup.status === 'error') unknown.push(name);
    else if (lookup.status === 'none' || !lookup.value.some(isDmarcText)) missing.push(name);
  }
  if (missing.length > 0) {
    return {
      id: 'rua',
      ok: false,
      severity: 'error',
      checked: true,
      detail: `reports to another organisation need its consent, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not published: receivers will not send those reports`,
      fix: missing.map((name) => `the report receiver publishes TXT ${name} "v=DMARC1"`).join('; '),
    };
  }
  if (unknown.length > 0) {
    return {
      id: 'rua',
      ok: false,
      severity: 'info',
      checked: false,
      detail: `could not check the authorisation of external report destinations: DNS did not answer for ${unknown.join(', ')}`,
      fix: null,
    };
  }
  return { id: 'rua', ok: true, severity: 'info', checked: true, detail: `reports go to ${rua}`, fix: null };
}
