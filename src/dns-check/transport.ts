// Where the domain receives mail and how senders should protect the way there: MX, MTA-STS (RFC
// 8461: a TXT record plus a policy file over HTTPS, parsed and matched against the MX by mailauth)
// and TLS-RPT (RFC 8460). These never block enforcement of DMARC: warnings at most.

import { createRequire } from 'node:module';
import type * as MtaSts from 'mailauth/lib/mta-sts.js';
import type { DnsCheck, DnsRecords, Lookup, MtaStsFile, TxtAt } from './types.ts';

function versioned(at: TxtAt, pattern: RegExp): string[] {
  return at.records.status === 'found' ? at.records.value.filter((text) => pattern.test(text.trim())) : [];
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

export function mxCheck(domain: string, mx: DnsRecords['mx']): DnsCheck {
  if (mx.status === 'error') return notChecked('mx', 'the MX records', mx.error);
  const hosts = mx.status === 'found' ? mx.value : [];
  if (hosts.length === 1 && (hosts[0]!.exchange === '' || hosts[0]!.exchange === '.'))
    return {
      id: 'mx',
      ok: true,
      severity: 'info',
      checked: true,
      detail: `${domain} receives no mail (null MX)`,
      fix: null,
    };
  if (hosts.length === 0)
    return {
      id: 'mx',
      ok: false,
      severity: 'warning',
      checked: true,
      detail: `${domain} has no MX record: replies and bounces go to its A record, if any`,
      fix: `publish MX ${domain} pointing at the servers that receive its mail (or "0 ." when it receives none)`,
    };
  const list = [...hosts].sort((a, b) => a.priority - b.priority).map((host) => `${host.priority} ${host.exchange}`);
  return { id: 'mx', ok: true, severity: 'info', checked: true, detail: `MX: ${list.join(', ')}`, fix: null };
}

export function mtaStsCheck(
  domain: string,
  record: TxtAt,
  file: MtaStsFile | null,
  mx: Lookup<Array<{ exchange: string }>>,
): DnsCheck {
  if (record.records.status === 'error') return notChecked('mta-sts', 'the MTA-STS record', record.records.error);
  const texts = versioned(record, /^v=STSv1\b/i);
  if (texts.length === 0)
    return {
      id: 'mta-sts',
      ok: false,
      severity: 'info',
      checked: true,
      detail: `no MTA-STS record at ${record.name}: senders may deliver to ${domain} without TLS`,
      fix: `optional: publish a policy at https://mta-sts.${domain}/.well-known/mta-sts.txt and TXT ${record.name} "v=STSv1; id=<date>"`,
    };
  const warn = (detail: string, fix: string): DnsCheck => ({
    id: 'mta-sts',
    ok: false,
    severity: 'warning',
    checked: true,
    detail,
    fix,
  });
  if (texts.length > 1)
    return warn(
      `${texts.length} MTA-STS records at ${record.name}: senders ignore them`,
      `keep one TXT record at ${record.name}`,
    );
  if (!/(^|;)\s*id\s*=\s*[A-Za-z0-9]{1,32}\s*(;|$)/.test(texts[0]!))
    return warn(
      `the MTA-STS record has no valid id= (1 to 32 letters and digits)`,
      `publish TXT ${record.name} "v=STSv1; id=${new Date().toISOString().slice(0, 10).replace(/-/g, '')}"`,
    );
  if (!file || file.body === null)
    return warn(
      `MTA-STS is announced but the policy file could not be fetched${file?.error ? ` (${file.error})` : ''}: senders that enforce it may stop delivering`,
      `serve the policy at https://mta-sts.${domain}/.well-known/mta-sts.txt with a valid certificate`,
    );
  // loaded here, not at start: only a domain that announces MTA-STS needs the policy parser
  const { parsePolicy, validateMx } = createRequire(import.meta.url)('mailauth/lib/mta-sts.js') as typeof MtaSts;
  let policy: { mode: string; mx?: string[] };
  try {
    policy = parsePolicy(file.body);
  } catch (error) {
    return warn(
      `the MTA-STS policy file is invalid: ${(error as Error).message}`,
      `correct https://mta-sts.${domain}/.well-known/mta-sts.txt`,
    );
  }
  const exchanges = mx.status === 'found' ? mx.value.map((host) => host.exchange) : [];
  const unmatched = exchanges.filter((exchange) => !validateMx(exchange, policy as never).valid);
  if (unmatched.length > 0)
    return warn(
      `the MTA-STS policy (mode ${policy.mode}) does not list the MX ${unmatched.join(', ')}: senders that enforce it refuse to deliver there`,
      `add "mx: ${unmatched[0]}" to the policy file and change the id= of ${record.name}`,
    );
  return {
    id: 'mta-sts',
    ok: true,
    severity: 'info',
    checked: true,
    detail: `MTA-STS mode ${policy.mode}, covering every MX`,
    fix: null,
  };
}

export function tlsRptCheck(domain: string, record: TxtAt, hasMtaSts: boolean): DnsCheck {
  if (record.records.status === 'error') return notChecked('tls-rpt', 'the TLS-RPT record', record.records.error);
  const texts = versioned(record, /^v=TLSRPTv1\b/i);
  const fix = `publish TXT ${record.name} "v=TLSRPTv1; rua=mailto:tls-reports@${domain}"`;
  if (texts.length === 0)
    return {
      id: 'tls-rpt',
      ok: false,
      severity: hasMtaSts ? 'warning' : 'info',
      checked: true,
      detail: `no TLS-RPT record at ${record.name}: nobody reports failed TLS deliveries to ${domain}`,
      fix,
    };
  if (texts.length > 1 || !/rua\s*=\s*(mailto:|https:)/i.test(texts[0]!))
    return {
      id: 'tls-rpt',
      ok: false,
      severity: 'warning',
      checked: true,
      detail:
        texts.length > 1
          ? `${texts.length} TLS-RPT records at ${record.name}`
          : `the TLS-RPT record has no rua=mailto: or https: destination`,
      fix,
    };
  return { id: 'tls-rpt', ok: true, severity: 'info', checked: true, detail: `TLS reports: ${texts[0]}`, fix: null };
}
