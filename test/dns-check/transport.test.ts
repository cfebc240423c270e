// MTA-STS: the record, then the policy file through the injected HTTPS fetcher, matched against the MX.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDomainDns } from '../../src/dns-check/index.ts';
import type { TextFetcher } from '../../src/dns-check/types.ts';
import { createRecordResolver } from '../../src/net/dns-records.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { soundZone } from '../support/dns-zones.ts';

let server: DnsTestServer;
beforeAll(async () => {
  server = await startDnsServer();
  for (const domain of ['sts-good.example', 'sts-other-mx.example', 'sts-unreachable.example']) {
    soundZone(server, { domain, key: 'AAAA' });
    server.txt(`_mta-sts.${domain}`, 'v=STSv1; id=20260601');
  }
});
afterAll(() => server.close());

const policy = (mx: string) => `version: STSv1\nmode: enforce\nmx: ${mx}\nmax_age: 86400\n`;
const files: Record<string, string> = {
  'https://mta-sts.sts-good.example/.well-known/mta-sts.txt': policy('mx.sts-good.example'),
  'https://mta-sts.sts-other-mx.example/.well-known/mta-sts.txt': policy('*.elsewhere.example'),
};
const requested: Array<{ url: string; timeoutMs: number; maxBytes: number }> = [];
const fetchText: TextFetcher = async (url, options) => {
  requested.push({ url, ...options });
  const body = files[url];
  if (body === undefined) throw new Error('connect ECONNREFUSED');
  return body;
};

async function mtaSts(domain: string) {
  const resolver = createRecordResolver({ servers: [server.address], timeoutMs: 1000 });
  const report = await checkDomainDns({ domain, resolver, fetchText, httpTimeoutMs: 2500 });
  return report.checks.find((check) => check.id === 'mta-sts')!;
}

describe('MTA-STS', () => {
  it('a policy that covers every MX is fine, fetched with a deadline and a size cap', async () => {
    expect(await mtaSts('sts-good.example')).toMatchObject({
      ok: true,
      detail: 'MTA-STS mode enforce, covering every MX',
    });
    expect(requested.find((r) => r.url.includes('sts-good'))).toMatchObject({ timeoutMs: 2500, maxBytes: 65536 });
  });

  it('a policy that does not list the MX is a warning', async () => {
    const check = await mtaSts('sts-other-mx.example');
    expect(check).toMatchObject({ ok: false, severity: 'warning' });
    expect(check.detail).toMatch(/does not list the MX mx\.sts-other-mx\.example/);
  });

  it('an announced policy that cannot be fetched is a warning, never an error', async () => {
    const check = await mtaSts('sts-unreachable.example');
    expect(check).toMatchObject({ ok: false, severity: 'warning' });
    expect(check.detail).toMatch(/could not be fetched \(connect ECONNREFUSED\)/);
  });
});
