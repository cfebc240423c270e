// The fetching edge of the DNS checks: asks a record resolver (node:dns in production, a loopback
// server in tests) for everything the checks need, and an HTTPS fetcher for the MTA-STS policy.
// Every failure to ask becomes a Lookup with status "error", so the checks say "could not check".

import { isNoAnswer, type RecordResolver } from '../net/dns-records.ts';
import { effectiveDmarc, parseDmarcRecord } from './dmarc.ts';
import { authorisationName, externalRuaHosts, policyDomainOf } from './rua.ts';
import { isSpfText, MAX_LOOKUPS, queryingTerms } from './spf.ts';
import type {
  DkimSelectorRecord,
  DnsRecords,
  LegitimateSender,
  Lookup,
  MtaStsFile,
  SpfNode,
  SpfSenderResult,
  SpfTerm,
  TextFetcher,
  TxtAt,
} from './types.ts';

export interface FetchInput {
  domain: string;
  resolver: RecordResolver;
  /** selectors seen signing the domain's mail: { selector, domain (d=) } */
  selectors?: ReadonlyArray<{ selector: string; domain: string }>;
  senders?: readonly LegitimateSender[];
  fetchText?: TextFetcher;
  /** deadline of the policy file fetch */
  httpTimeoutMs?: number;
}

/** At most this many IPs are evaluated for spf-senders (each evaluation walks the SPF tree). */
const MAX_SENDER_IPS = 20;
const MAX_SELECTORS = 10;
const MAX_WALK_LABELS = 8;

function errorText(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

async function lookup<T>(ask: () => Promise<T>): Promise<Lookup<T>> {
  try {
    return { status: 'found', value: await ask() };
  } catch (error) {
    return isNoAnswer(error) ? { status: 'none' } : { status: 'error', error: errorText(error) };
  }
}

export async function txtAt(resolver: RecordResolver, name: string): Promise<TxtAt> {
  const records = await lookup(async () => {
    const answer = (await resolver(name, 'TXT')) as string[][];
    return answer.map((strings) => strings.join(''));
  });
  return { name, records };
}

/**
 * RFC 9989's DNS tree walk: _dmarc at the domain, then at each parent (at most 8 labels, skipping
 * to the last 7 of a longer name), until a name holds a DMARC record.
 */
export async function walkDmarc(resolver: RecordResolver, domain: string): Promise<TxtAt[]> {
  const labels = domain.split('.').filter(Boolean);
  const candidates = [labels.join('.')];
  const start = labels.length > MAX_WALK_LABELS ? labels.length - (MAX_WALK_LABELS - 1) : 1;
  for (let index = start; index < labels.length; index++) candidates.push(labels.slice(index).join('.'));
  const found: TxtAt[] = [];
  for (const name of candidates) {
    const at = await txtAt(resolver, `_dmarc.${name}`);
    found.push(at);
    if (effectiveDmarc([at]) || at.records.status === 'error') break;
  }
  return found;
}

async function spfAt(resolver: RecordResolver, domain: string): Promise<Lookup<string[]>> {
  const at = await txtAt(resolver, domain);
  return at.records.status === 'found' ? { status: 'found', value: at.records.value.filter(isSpfText) } : at.records;
}

/** Fetches the SPF record and, recursively, what its DNS-querying terms look up. */
export async function walkSpf(
  resolver: RecordResolver,
  domain: string,
  budget = { queries: 4 * MAX_LOOKUPS },
): Promise<SpfNode> {
  const records = await spfAt(resolver, domain);
  const node: SpfNode = { domain, records, terms: [] };
  if (records.status !== 'found' || records.value.length !== 1) return node;
  for (const { kind, target } of queryingTerms(records.value[0]!, domain)) {
    const term: SpfTerm = { kind, target, void: null, child: null };
    node.terms.push(term);
    // macros cannot be expanded without a message; ptr is not looked up without a client IP
    if (target.includes('%') || kind === 'ptr' || budget.queries <= 0) continue;
    budget.queries--;
    if (kind === 'include' || kind === 'redirect') {
      term.child = await walkSpf(resolver, target, budget);
      term.void =
        term.child.records.status === 'none' ||
        (term.child.records.status === 'found' && term.child.records.value.length === 0);
    } else if (kind === 'mx') {
      term.void = (await lookup(() => resolver(target, 'MX'))).status === 'none';
    } else {
      const [v4, v6] = await Promise.all([lookup(() => resolver(target, 'A')), lookup(() => resolver(target, 'AAAA'))]);
      term.void = v4.status === 'none' && v6.status === 'none';
    }
  }
  return node;
}

async function spfForSenders(
  resolver: RecordResolver,
  domain: string,
  senders: readonly LegitimateSender[],
): Promise<SpfSenderResult[]> {
  const pairs = senders
    .flatMap((sender) => sender.ips.map((ip) => ({ sender: sender.sender, ip })))
    .slice(0, MAX_SENDER_IPS);
  if (pairs.length === 0) return [];
  // mailauth's SPF module costs more to load than the rest of start-up: only when it is used
  const { spf } = await import('mailauth/lib/spf/index.js');
  return Promise.all(
    pairs.map(async ({ sender, ip }) => {
      const result = await spf({
        ip,
        sender: `postmaster@${domain}`,
        helo: domain,
        mta: 'dmarc-bot',
        resolver,
      } as never);
      return { sender, ip, result: String(result.status.result) };
    }),
  );
}

export async function fetchMtaStsFile(
  domain: string,
  fetchText: TextFetcher | undefined,
  timeoutMs: number,
): Promise<MtaStsFile> {
  const url = `https://mta-sts.${domain}/.well-known/mta-sts.txt`;
  if (!fetchText) return { url, body: null, error: 'no HTTPS fetcher' };
  try {
    return { url, body: await fetchText(url, { timeoutMs, maxBytes: 64 * 1024 }), error: null };
  } catch (error) {
    return { url, body: null, error: errorText(error) };
  }
}

export async function fetchDnsRecords(input: FetchInput): Promise<DnsRecords> {
  const { domain, resolver } = input;
  const selectors = (input.selectors ?? []).slice(0, MAX_SELECTORS);
  const [dmarc, spfNode, dkim, mx, mtaSts, tlsRpt] = await Promise.all([
    walkDmarc(resolver, domain),
    walkSpf(resolver, domain),
    Promise.all(
      selectors.map(async ({ selector, domain: signer }): Promise<DkimSelectorRecord> => ({
        selector,
        domain: signer,
        records: (await txtAt(resolver, `${selector}._domainkey.${signer}`)).records,
      })),
    ),
    lookup(async () => (await resolver(domain, 'MX')) as Array<{ exchange: string; priority: number }>),
    txtAt(resolver, `_mta-sts.${domain}`),
    txtAt(resolver, `_smtp._tls.${domain}`),
  ]);
  const effective = effectiveDmarc(dmarc);
  const rua =
    effective && effective.texts.length === 1 ? parseDmarcRecord(effective.texts[0]!).tags.get('rua') : undefined;
  const policyDomain = effective ? policyDomainOf(effective.at) : domain;
  const hosts = rua ? externalRuaHosts(policyDomain, rua) : [];
  const announced = mtaSts.records.status === 'found' && mtaSts.records.value.some((text) => /^v=STSv1\b/i.test(text));
  const senders = input.senders ?? [];
  const spfUsable = spfNode.records.status === 'found' && spfNode.records.value.length === 1;
  const [ruaAuthorisations, mtaStsFile, spfSenders] = await Promise.all([
    Promise.all(hosts.map((host) => txtAt(resolver, authorisationName(policyDomain, host)))),
    announced ? fetchMtaStsFile(domain, input.fetchText, input.httpTimeoutMs ?? 5000) : Promise.resolve(null),
    spfUsable && senders.length > 0
      ? spfForSenders(resolver, domain, senders).catch((error: unknown) => ({ error: errorText(error) }))
      : Promise.resolve([] as SpfSenderResult[]),
  ]);
  return { domain, dmarc, ruaAuthorisations, spf: spfNode, spfSenders, dkim, mx, mtaSts, mtaStsFile, tlsRpt };
}
