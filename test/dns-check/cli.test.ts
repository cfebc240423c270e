// `dmarc-bot ask --json "dns DOMAIN"` as a child process, with DNS_SERVERS at a loopback server.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { soundZone } from '../support/dns-zones.ts';
import { OWN, scenarioReports, storeWith, type TestStore } from '../commands/scenario.ts';

const run = promisify(execFile);
let fixture: TestStore;
let server: DnsTestServer;

beforeAll(async () => {
  fixture = await storeWith(scenarioReports());
  await fixture.store.close(); // the CLI opens the file itself
  server = await startDnsServer();
  soundZone(server, { domain: 'example.com', dmarc: 'v=DMARC1; p=none; rua=mailto:dmarc@example.com; psd=maybe' }, [
    OWN,
  ]);
});
afterAll(async () => {
  await server.close();
  await fixture.close().catch(() => undefined);
});

it('prints domain, checks and records, with the syntax error named', { timeout: 180_000 }, async () => {
  const { stdout } = await run('node', ['src/bin.mjs', 'ask', 'dns example.com', '--json'], {
    env: {
      PATH: process.env.PATH,
      DMARC_STORE: fixture.url,
      DNS_SERVERS: server.address,
      DNS_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'silent',
      NO_COLOR: '1',
    },
  });
  const data = JSON.parse(stdout);
  expect(Object.keys(data).sort()).toEqual(['checks', 'domain', 'records']);
  expect(data.domain).toBe('example.com');
  const dmarc = data.checks.find((check: { id: string }) => check.id === 'dmarc-record');
  expect(dmarc).toMatchObject({ ok: false, severity: 'error' });
  expect(dmarc.detail).toContain('psd=maybe: must be y, n or u');
  expect(dmarc.fix).toBe('publish TXT _dmarc.example.com "v=DMARC1; p=none; rua=mailto:dmarc@example.com"');
  expect(data.records.dmarc[0]).toMatchObject({ name: '_dmarc.example.com', records: { status: 'found' } });
});
