// SPF (RFC 7208): exactly one v=spf1 record; at most 10 DNS-querying terms (include, a, mx, ptr,
// exists, redirect) over the whole include tree, and at most 2 of them void. mailauth evaluates SPF
// for an IP and stops at the first match, so the full count of a record comes from walking the tree
// (fetch.ts) and counting here; the per-sender verdicts come from mailauth's evaluation.

import type { DnsCheck, LegitimateSender, SpfNode, SpfSenderResult } from './types.ts';

export const MAX_LOOKUPS = 10;
export const MAX_VOID_LOOKUPS = 2;
const QUERYING = new Set(['include', 'redirect', 'a', 'mx', 'ptr', 'exists']);

export function isSpfText(text: string): boolean {
  return /^v=spf1(\s|$)/i.test(text.trim());
}

/** The DNS-querying terms of a record: kind and target (the domain itself for bare a / mx). */
export function queryingTerms(record: string, domain: string): Array<{ kind: string; target: string }> {
  const terms: Array<{ kind: string; target: string }> = [];
  for (const raw of record.trim().split(/\s+/).slice(1)) {
    const term = raw.replace(/^[+\-~?]/, '');
    const match = /^(include|redirect|a|mx|ptr|exists)(?:[:=]([^/]*))?(\/.*)?$/i.exec(term);
    if (!match) continue;
    const kind = match[1]!.toLowerCase();
    if (!QUERYING.has(kind)) continue;
    terms.push({ kind, target: (match[2] || domain).toLowerCase() });
  }
  return terms;
}

/** Unknown mechanisms and bad modifiers make the record a permerror at every receiver. */
export function spfSyntaxErrors(record: string): string[] {
  const errors: string[] = [];
  for (const raw of record.trim().split(/\s+/).slice(1)) {
    const term = raw.replace(/^[+\-~?]/, '');
    if (
      /^(all|ip4:[\d.]+(\/\d+)?|ip6:[\da-f:.]+(\/\d+)?|(a|mx)(:[^/\s]+)?(\/\d+)?(\/\/\d+)?|ptr(:\S+)?|include:\S+|exists:\S+)$/i.test(
        term,
      )
    )
      continue;
    if (/^[a-z][a-z0-9_.-]*=\S*$/i.test(term)) continue;
    errors.push(`"${raw}" is not an SPF term`);
  }
  return errors;
}

export interface LookupCount {
  lookups: number;
  voids: number;
  /** "include:_spf.example.net" and so on, where the void lookups happened */
  voidTerms: string[];
}

export function countLookups(node: SpfNode, seen = new Set<string>()): LookupCount {
  const total: LookupCount = { lookups: 0, voids: 0, voidTerms: [] };
  if (seen.has(node.domain)) return total;
  seen.add(node.domain);
  for (const term of node.terms) {
    total.lookups++;
    if (term.void) {
      total.voids++;
      total.voidTerms.push(`${term.kind}:${term.target}`);
    }
    if (term.child) {
      const nested = countLookups(term.child, seen);
      total.lookups += nested.lookups;
      total.voids += nested.voids;
      total.voidTerms.push(...nested.voidTerms);
    }
  }
  return total;
}

function notChecked(id: DnsCheck['id'], what: string, error: string): DnsCheck {
  return {
    id,
    ok: false,
    severity: 'info',
    checked: false,
    detail: `could not check ${what}: DNS did not answer (${error})`,
    fix: null,
  };
}

export function spfRecordCheck(domain: string, spf: SpfNode): DnsCheck {
  if (spf.records.status === 'error') return notChecked('spf-record', 'the SPF record', spf.records.error);
  const texts = spf.records.status === 'found' ? spf.records.value : [];
  if (texts.length === 0)
    return {
      id: 'spf-record',
      ok: false,
      severity: 'error',
      checked: true,
      detail: `${domain} publishes no SPF record: SPF gives "none" for its mail, which then depends on DKIM alone`,
      fix: `publish TXT ${domain} "v=spf1 mx -all" (listing every server and service that sends as ${domain})`,
    };
  if (texts.length > 1)
    return {
      id: 'spf-record',
      ok: false,
      severity: 'error',
      checked: true,
      detail: `${texts.length} SPF records at ${domain}: SPF is a permerror at every receiver`,
      fix: `merge them into one TXT record at ${domain} starting with v=spf1`,
    };
  const errors = spfSyntaxErrors(texts[0]!);
  if (errors.length > 0)
    return {
      id: 'spf-record',
      ok: false,
      severity: 'error',
      checked: true,
      detail: `the SPF record of ${domain} has errors (a permerror at receivers): ${errors.join('; ')}`,
      fix: `correct the TXT record at ${domain}: ${texts[0]}`,
    };
  return {
    id: 'spf-record',
    ok: true,
    severity: 'info',
    checked: true,
    detail: `one SPF record: ${texts[0]}`,
    fix: null,
  };
}

/** First DNS failure anywhere in the tree, when any. */
function treeError(node: SpfNode): string | null {
  if (node.records.status === 'error') return node.records.error;
  for (const term of node.terms) {
    const nested = term.child ? treeError(term.child) : null;
    if (nested) return nested;
  }
  return null;
}

export function spfLookupsCheck(domain: string, spf: SpfNode): DnsCheck | null {
  if (spf.records.status !== 'found' || spf.records.value.length !== 1) return null;
  const count = countLookups(spf);
  const failed = treeError(spf);
  const over = count.lookups > MAX_LOOKUPS;
  const tooVoid = count.voids > MAX_VOID_LOOKUPS;
  if (over || tooVoid) {
    const problems = [
      over && `${count.lookups} DNS-querying terms (at most ${MAX_LOOKUPS}, nested includes counted)`,
      tooVoid && `${count.voids} void lookups (at most ${MAX_VOID_LOOKUPS}): ${count.voidTerms.join(', ')}`,
    ].filter(Boolean);
    return {
      id: 'spf-lookups',
      ok: false,
      severity: 'error',
      checked: true,
      detail: `the SPF record of ${domain} needs ${problems.join(' and ')}: a permerror at every receiver`,
      fix: [
        over && 'replace includes by the ip4:/ip6: ranges they stand for, or drop senders no longer used',
        tooVoid && `remove the terms that find nothing (${count.voidTerms.join(', ')})`,
      ]
        .filter(Boolean)
        .join('; '),
    };
  }
  if (failed) return notChecked('spf-lookups', 'every include of the SPF record', failed);
  return {
    id: 'spf-lookups',
    ok: true,
    severity: 'info',
    checked: true,
    detail: `${count.lookups} of ${MAX_LOOKUPS} DNS lookups, ${count.voids} void`,
    fix: null,
  };
}

const PERMITTED = new Set(['pass']);

export function spfSendersCheck(
  domain: string,
  senders: readonly LegitimateSender[],
  results: readonly SpfSenderResult[] | { error: string },
): DnsCheck {
  if (senders.length === 0)
    return {
      id: 'spf-senders',
      ok: true,
      severity: 'info',
      checked: true,
      detail: 'no legitimate sender in the window: no IP to evaluate SPF for',
      fix: null,
    };
  if (!Array.isArray(results))
    return notChecked('spf-senders', 'SPF for the senders', (results as { error: string }).error);
  const temporary = results.filter((result) => result.result === 'temperror');
  const refused = results.filter((result) => !PERMITTED.has(result.result) && result.result !== 'temperror');
  if (refused.length > 0) {
    const names = [...new Set(refused.map((result) => `${result.sender} (${result.ip}: ${result.result})`))];
    return {
      id: 'spf-senders',
      ok: false,
      severity: 'warning',
      checked: true,
      detail: `SPF of ${domain} does not permit ${names.join(', ')}`,
      fix: `add them to the SPF record of ${domain} (e.g. ${refused
        .slice(0, 3)
        .map((result) => (result.ip.includes(':') ? `ip6:${result.ip}` : `ip4:${result.ip}`))
        .join(' ')}), or sign their mail with DKIM d=${domain}`,
    };
  }
  if (temporary.length > 0)
    return notChecked('spf-senders', 'SPF for every sender', `temperror for ${temporary[0]!.ip}`);
  return {
    id: 'spf-senders',
    ok: true,
    severity: 'info',
    checked: true,
    detail: `SPF permits every legitimate sender (${senders.map((sender) => sender.sender).join(', ')})`,
    fix: null,
  };
}
