// The DMARC record by RFC 9989: tag=value pairs separated by ";", v=DMARC1 first, tags np, t and psd
// new, pct/rf/ri gone (ignored, with a note). mailauth's getDmarcRecord reads a record too, but it
// treats two records as "no record" silently and does not name syntax errors, which is the point here.

import type { DnsCheck, TxtAt } from './types.ts';

const POLICIES = new Set(['none', 'quarantine', 'reject']);

export interface DmarcRecord {
  text: string;
  tags: Map<string, string>;
  /** syntax errors that make the record (or a tag) unusable, named */
  errors: string[];
  /** tags a receiver ignores: obsolete or unknown */
  notes: string[];
}

export function parseDmarcRecord(text: string): DmarcRecord {
  const tags = new Map<string, string>();
  const errors: string[] = [];
  const notes: string[] = [];
  const parts = text
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean);
  parts.forEach((part, index) => {
    const equals = part.indexOf('=');
    if (equals <= 0) {
      errors.push(`"${part}" is not a tag=value pair`);
      return;
    }
    const name = part.slice(0, equals).trim().toLowerCase();
    const value = part.slice(equals + 1).trim();
    if (index === 0 && name !== 'v') errors.push('the record must start with v=DMARC1');
    if (tags.has(name)) {
      errors.push(`the tag ${name} appears twice`);
      return;
    }
    tags.set(name, value);
  });
  if (tags.get('v') !== 'DMARC1') errors.push(`v must be DMARC1 (found "${tags.get('v') ?? ''}")`);
  for (const name of ['p', 'sp', 'np']) {
    const value = tags.get(name);
    if (value !== undefined && !POLICIES.has(value.toLowerCase()))
      errors.push(`${name}=${value}: must be none, quarantine or reject`);
  }
  if (!tags.has('p')) notes.push('no p= tag: receivers apply p=none when rua is valid, else ignore the record');
  for (const name of ['adkim', 'aspf']) {
    const value = tags.get(name);
    if (value !== undefined && !/^[rs]$/i.test(value)) errors.push(`${name}=${value}: must be r or s`);
  }
  const testing = tags.get('t');
  if (testing !== undefined && !/^[yn]$/i.test(testing)) errors.push(`t=${testing}: must be y or n`);
  const psd = tags.get('psd');
  if (psd !== undefined && !/^[ynu]$/i.test(psd)) errors.push(`psd=${psd}: must be y, n or u`);
  const fo = tags.get('fo');
  if (fo !== undefined && !/^[01ds](:[01ds])*$/i.test(fo.replace(/\s/g, '')))
    errors.push(`fo=${fo}: must be 0, 1, d or s`);
  for (const name of ['rua', 'ruf']) {
    const value = tags.get(name);
    if (value === undefined) continue;
    for (const uri of splitUris(value))
      if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(uri)) errors.push(`${name}: "${uri}" is not a URI`);
  }
  for (const name of ['pct', 'rf', 'ri'])
    if (tags.has(name)) notes.push(`${name}= is no longer part of DMARC (RFC 9989) and is ignored`);
  const known = new Set(['v', 'p', 'sp', 'np', 'adkim', 'aspf', 'fo', 'rua', 'ruf', 't', 'psd', 'pct', 'rf', 'ri']);
  for (const name of tags.keys()) if (!known.has(name)) notes.push(`unknown tag ${name}= is ignored`);
  return { text, tags, errors, notes };
}

export function splitUris(value: string): string[] {
  return value
    .split(',')
    .map((uri) => uri.trim())
    .filter(Boolean);
}

/** The mailbox of a mailto: URI (a size suffix "!10m" removed), or null for another scheme. */
export function mailtoAddress(uri: string): string | null {
  const match = /^mailto:([^!?\s]+)/i.exec(uri);
  return match ? decodeURIComponent(match[1]!).toLowerCase() : null;
}

export function isDmarcText(text: string): boolean {
  return /^v\s*=\s*DMARC1\s*(;|$)/i.test(text.trim());
}

/** The DMARC record that applies: the first name of the walk that holds any v=DMARC1 record. */
export function effectiveDmarc(found: readonly TxtAt[]): { at: TxtAt; texts: string[] } | null {
  for (const at of found) {
    if (at.records.status !== 'found') continue;
    const texts = at.records.value.filter(isDmarcText);
    if (texts.length > 0) return { at, texts };
  }
  return null;
}

/** A record to start from: what is published, with its errors repaired, else a p=none monitor. */
export function suggestedDmarc(domain: string, current: DmarcRecord | null): string {
  const tags = new Map<string, string>([['v', 'DMARC1']]);
  const policy = current?.tags.get('p')?.toLowerCase();
  tags.set('p', policy && POLICIES.has(policy) ? policy : 'none');
  for (const name of ['sp', 'np', 'adkim', 'aspf', 't', 'psd', 'rua', 'ruf', 'fo']) {
    const value = current?.tags.get(name);
    if (
      value !== undefined &&
      !current!.errors.some((error) => error.startsWith(`${name}=`) || error.startsWith(`${name}:`))
    )
      tags.set(name, value);
  }
  if (!tags.has('rua')) tags.set('rua', `mailto:dmarc-reports@${domain}`);
  return [...tags].map(([name, value]) => `${name}=${value}`).join('; ');
}

function dnsError(error: string): DnsCheck {
  return {
    id: 'dmarc-record',
    ok: false,
    severity: 'info',
    checked: false,
    detail: `could not check the DMARC record: DNS did not answer (${error})`,
    fix: null,
  };
}

export function dmarcRecordCheck(domain: string, found: readonly TxtAt[]): DnsCheck {
  const failed = found.find((at) => at.records.status === 'error');
  const effective = effectiveDmarc(found);
  if (!effective) {
    if (failed && failed.records.status === 'error') return dnsError(failed.records.error);
    return {
      id: 'dmarc-record',
      ok: false,
      severity: 'error',
      checked: true,
      detail: `no DMARC record at _dmarc.${domain} nor at a parent domain: receivers apply no policy and send no reports`,
      fix: `publish TXT _dmarc.${domain} "${suggestedDmarc(domain, null)}"`,
    };
  }
  const { at, texts } = effective;
  const where = at.name === `_dmarc.${domain}` ? at.name : `${at.name} (a parent domain's record, covering ${domain})`;
  if (texts.length > 1) {
    const parsed = parseDmarcRecord(texts[0]!);
    return {
      id: 'dmarc-record',
      ok: false,
      severity: 'error',
      checked: true,
      detail: `${texts.length} DMARC records at ${at.name}: receivers treat that as no record at all`,
      fix: `keep exactly one TXT record at ${at.name}: "${suggestedDmarc(domain, parsed)}"`,
    };
  }
  const record = parseDmarcRecord(texts[0]!);
  if (record.errors.length > 0) {
    return {
      id: 'dmarc-record',
      ok: false,
      severity: 'error',
      checked: true,
      detail: `the DMARC record at ${where} has errors: ${record.errors.join('; ')}`,
      fix: `publish TXT ${at.name} "${suggestedDmarc(domain, record)}"`,
    };
  }
  return {
    id: 'dmarc-record',
    ok: true,
    severity: 'info',
    checked: true,
    detail: `one valid DMARC record at ${where}: ${record.text}${record.notes.length ? ` (${record.notes.join('; ')})` : ''}`,
    fix: null,
  };
}

/** t=y: receivers apply one step less than p says (reject as quarantine, quarantine as none). */
export function dmarcTestingCheck(domain: string, found: readonly TxtAt[]): DnsCheck | null {
  const effective = effectiveDmarc(found);
  if (!effective || effective.texts.length !== 1) return null;
  const record = parseDmarcRecord(effective.texts[0]!);
  if (record.tags.get('t')?.toLowerCase() !== 'y') return null;
  const p = record.tags.get('p')?.toLowerCase() ?? 'none';
  const applied = p === 'reject' ? 'quarantine' : 'none';
  return {
    id: 'dmarc-testing',
    ok: false,
    severity: 'warning',
    checked: true,
    detail: `t=y (testing mode): receivers apply p=${applied} instead of p=${p}`,
    fix:
      p === 'none'
        ? null
        : `when the reports stay clean, drop t=y: publish TXT ${effective.at.name} "${suggestedDmarc(domain, record).replace(/; t=y/i, '')}"`,
  };
}
