// What the published records mean for `ready`: error-severity failures block enforcement (verdict
// not-ready, each with its fix, the first one as the next step), and the published DMARC policy is
// set next to the one receivers reported, saying when they differ. Pure over a Readiness and a
// DnsReport; the command layer fetches the records.

import { organizationalDomain } from '../reader/alignment.ts';
import type { Readiness, ReportedPolicy, SourceClass } from '../insight/types.ts';
import { readinessWith, sourceList } from '../insight/readiness.ts';
import { pairKey, pairOffsets, ROW_MAPS, summaryRows, type DayData } from '../store/summary.ts';
import { effectiveDmarc, parseDmarcRecord, suggestedDmarc } from './dmarc.ts';
import { dnsBlockers } from './index.ts';
import type { DnsCheck, DnsReport, LegitimateSender } from './types.ts';

export interface PublishedPolicy {
  /** where the record was found, e.g. _dmarc.example.com */
  name: string;
  record: string;
  /** "p: DNS reject, reports none" for each tag where the two differ */
  differences: string[];
}

export interface ReadinessDns {
  checks: DnsCheck[];
  published: PublishedPolicy | null;
  /** the DMARC record to publish for the next step, when one follows from the verdict */
  nextRecord: { name: string; record: string } | null;
}

export type ReadinessWithDns = Readiness & { dns: ReadinessDns };

const LEGITIMATE: ReadonlySet<SourceClass> = new Set<SourceClass>(['aligned', 'legitimate-failing']);

/** Sources `ready` counts as legitimate (and not marked spoof), with their top IPs. */
export function legitimateSenders(readiness: Readiness, ipsPerSender = 3): LegitimateSender[] {
  return sourceList(readiness)
    .where((source) => source.mark !== 'spoof' && (LEGITIMATE.has(source.class) || source.mark === 'mine'))
    .map((source) => ({ sender: source.sender, ips: source.ips.slice(0, ipsPerSender) }));
}

/**
 * DKIM selectors seen signing the domain's mail: d= on the domain's organisational domain, and the
 * selector passed at least once in the window (a selector that only ever failed may be a forger's).
 */
export function selectorsSeen(days: readonly DayData[], domain: string): Array<{ selector: string; domain: string }> {
  const org = organizationalDomain(domain);
  const seen = new Map<string, { selector: string; domain: string }>();
  // each distinct DKIM key text is judged once, when a row first shows it: a busy month repeats a
  // few keys in every row of every day
  const judged = new Set<string>();
  // the verdict of every text of the days' string tables (most are no DKIM key at all)
  const verdicts = new Map<string, { selector: string; signer: string } | null>();
  const verdictOf = (key: string) => {
    let verdict = verdicts.get(key);
    if (verdict === undefined) verdicts.set(key, (verdict = selectorOf(key, org)));
    return verdict;
  };
  for (const day of days) {
    if (day.domain !== domain) continue;
    const stored = summaryRows(day);
    const { keys, pairs } = stored;
    // the day's key texts that would name a selector if a DKIM pair showed them (a text's verdict
    // depends on the text alone): the rows are read only while one of them is still unseen, so a
    // day that repeats known keys costs a pass over its string table, not over its pairs
    const wanted = new Uint8Array(keys.length);
    let open = 0;
    for (let index = 0; index < keys.length; index++) {
      const key = String(keys[index]);
      if (judged.has(key) || !verdictOf(key)) continue;
      wanted[index] = 1;
      open++;
    }
    const starts = pairOffsets(stored);
    for (let at = 0; open > 0 && at < starts[starts.length - 1]!; at += 2) {
      const code = pairKey(pairs[at], keys.length);
      if (code < 0 || code % ROW_MAPS.length !== DKIM_MAP) continue;
      const index = (code / ROW_MAPS.length) | 0;
      if (wanted[index] !== 1) continue;
      wanted[index] = 0;
      open--;
      const key = String(keys[index]);
      if (judged.has(key)) continue;
      judged.add(key);
      const found = verdictOf(key)!;
      seen.set(`${found.selector} ${found.signer}`, { selector: found.selector, domain: found.signer.toLowerCase() });
    }
  }
  // code-unit order: the same on every machine, whatever its locale, and without loading a collator
  return [...seen.values()].sort((a, b) => (a.selector < b.selector ? -1 : a.selector > b.selector ? 1 : 0));
}

/** The selector and signer of a DKIM key text ("d= selector result") that passed on the organisational domain. */
function selectorOf(key: string, org: string): { selector: string; signer: string } | null {
  const [signer, selector, result] = key.split(' ');
  if (!signer || !selector || selector === '-' || result !== 'pass') return null;
  if (organizationalDomain(signer) !== org || !/^[a-z0-9._-]{1,63}$/i.test(selector)) return null;
  return { selector, signer };
}
const DKIM_MAP = ROW_MAPS.indexOf('dkim');

function normalised(tags: Map<string, string> | null, reported: ReportedPolicy | null) {
  if (tags) {
    const p = tags.get('p')?.toLowerCase() ?? 'none';
    const sp = tags.get('sp')?.toLowerCase() ?? p;
    return {
      p,
      sp,
      np: tags.get('np')?.toLowerCase() ?? sp,
      adkim: tags.get('adkim')?.toLowerCase() ?? 'r',
      aspf: tags.get('aspf')?.toLowerCase() ?? 'r',
      t: tags.get('t')?.toLowerCase() ?? 'n',
    };
  }
  const p = reported?.p?.toLowerCase() ?? 'none';
  const sp = reported?.sp?.toLowerCase() ?? p;
  return {
    p,
    sp,
    np: reported?.np?.toLowerCase() ?? sp,
    adkim: reported?.adkim?.toLowerCase() ?? 'r',
    aspf: reported?.aspf?.toLowerCase() ?? 'r',
    t: reported?.testing?.toLowerCase() ?? 'n',
  };
}

export function publishedPolicy(report: DnsReport, reported: ReportedPolicy | null): PublishedPolicy | null {
  const effective = effectiveDmarc(report.records.dmarc);
  if (!effective || effective.texts.length !== 1) return null;
  const record = parseDmarcRecord(effective.texts[0]!);
  const differences: string[] = [];
  if (reported && record.errors.length === 0) {
    const dns = normalised(record.tags, null);
    const seen = normalised(null, reported);
    for (const tag of Object.keys(dns) as Array<keyof typeof dns>)
      if (dns[tag] !== seen[tag]) differences.push(`${tag}: DNS ${dns[tag]}, reports ${seen[tag]}`);
  }
  return { name: effective.at.name, record: record.text, differences };
}

const NEXT_POLICY: Record<string, { p: string; t: boolean }> = {
  'publish-quarantine-testing': { p: 'quarantine', t: true },
  'publish-quarantine': { p: 'quarantine', t: false },
  'publish-reject-testing': { p: 'reject', t: true },
  'publish-reject': { p: 'reject', t: false },
};

/** The DMARC record the next step asks for: the published one with p (and t) changed. */
function nextRecord(readiness: Readiness, report: DnsReport): ReadinessDns['nextRecord'] {
  const next = NEXT_POLICY[readiness.nextStep.code];
  if (!next) return null;
  const effective = effectiveDmarc(report.records.dmarc);
  const current = effective && effective.texts.length === 1 ? parseDmarcRecord(effective.texts[0]!) : null;
  const tags = current ? new Map(current.tags) : new Map<string, string>();
  tags.set('p', next.p);
  if (next.t) tags.set('t', 'y');
  else tags.delete('t');
  for (const obsolete of ['pct', 'rf', 'ri']) tags.delete(obsolete);
  const record = suggestedDmarc(readiness.domain, current ? { ...current, tags, errors: [] } : null);
  return {
    name: effective?.at.name ?? `_dmarc.${readiness.domain}`,
    record: current ? record : record.replace('p=none', `p=${next.p}`),
  };
}

/** Readiness with the DNS checks applied: DNS blockers make it not-ready with their fix as next step. */
export function applyDnsChecks(readiness: Readiness, report: DnsReport): ReadinessWithDns {
  const blockers = dnsBlockers(report.checks);
  const failed = report.checks.filter((check) => check.checked && !check.ok && check.severity !== 'info');
  const unchecked = report.checks.filter((check) => !check.checked);
  const checks = [
    ...readiness.checks,
    ...failed.map((check) => ({ id: `dns-${check.id}`, ok: false, detail: check.detail })),
    // one line for what DNS could not answer: it is no finding about the domain
    ...(unchecked.length > 0
      ? [
          {
            id: 'dns-unchecked',
            ok: false,
            detail: `could not check ${unchecked.map((check) => check.id).join(', ')}: DNS did not answer`,
          },
        ]
      : []),
    ...(failed.length === 0 && unchecked.length === 0
      ? [{ id: 'dns', ok: true, detail: `published records checked (${report.checks.length}), no problem found` }]
      : []),
  ];
  const dns: ReadinessDns = {
    checks: report.checks,
    published: publishedPolicy(report, readiness.policy),
    nextRecord: null,
  };
  // copied as a spread would, but the list of sources stays unbuilt until read
  if (blockers.length === 0)
    return readinessWith(readiness, { checks, dns: { ...dns, nextRecord: nextRecord(readiness, report) } });
  const first = blockers[0]!;
  return readinessWith(readiness, {
    checks,
    verdict: 'not-ready' as const,
    nextStep: {
      code: 'dns-fix' as const,
      params: { domain: readiness.domain, check: first.id, fix: first.fix ?? first.detail },
    },
    dns,
  });
}
