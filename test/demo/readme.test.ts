// The README's example answers come from the demo: every `$ npx dmarc-bot ask "..."` block is run
// against a demo store made for the date the README names, and each line it shows must appear in
// the answer, in order ("..." stands for lines left out). So the examples cannot go stale.
// The `dns` examples read a zone for the demo domain on a loopback DNS server: the demo's own
// senders and selector, with the two problems the README names; the other examples run offline.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { prepareDemoStore, type DemoStore } from '../../src/demo/index.ts';
import { createDnsResolver } from '../../src/net/dns.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { testContext } from '../commands/context.ts';
import { startDnsServer, type DnsTestServer } from '../support/dns-server.ts';
import { rsaKey, soundZone } from '../support/dns-zones.ts';

/** The README says "as of 29 November 2026": the demo made at that morning. */
const README_NOW = new Date('2026-11-29T09:00:00Z');

interface Example {
  command: string;
  lines: string[];
}

function readmeExamples(): Example[] {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const examples: Example[] = [];
  for (const block of readme.matchAll(/```text\n([\s\S]*?)```/g)) {
    const [first, ...rest] = block[1]!.split('\n');
    const command = /^\$ npx dmarc-bot ask "([^"]+)"$/.exec(first ?? '')?.[1];
    if (command) examples.push({ command, lines: rest.map((line) => line.trimEnd()).filter((line) => line !== '') });
  }
  return examples;
}

/** The selector the demo's own server signs with (src/generate/scenario.ts). */
const DEMO_SELECTOR = 'mail';
/** An outside report receiver that has not published its consent to receive the domain's reports. */
const VENDOR_RUA = 'mailto:reports@dmarc-vendor.example';

/**
 * The demo domain as published: SPF for the demo's own server and the newsletter ESP, DMARC p=none
 * with reports to the domain and to an outside vendor that never authorised it, and a 512-bit key
 * at the selector the demo's mail is signed with.
 */
function demoZone(server: DnsTestServer, truth: DemoStore['truth']): void {
  const own = truth.sources.filter((source) => source.role === 'own').flatMap((source) => source.ips);
  const ipTerms = own.map((ip) => (ip.includes(':') ? `ip6:${ip}` : `ip4:${ip}`));
  soundZone(server, {
    domain: truth.domain,
    dmarc: `v=DMARC1; p=none; rua=mailto:dmarc@${truth.domain},${VENDOR_RUA}`,
    spf: `v=spf1 ${ipTerms.join(' ')} include:servers.mcsv.net -all`,
    selector: DEMO_SELECTOR,
    key: rsaKey(512),
  });
  server.txt('servers.mcsv.net', 'v=spf1 ip4:205.201.128.0/20 ip4:198.2.128.0/18 ?all');
}

let dir: string;
let demo: DemoStore;
let dnsServer: DnsTestServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-readme-'));
  demo = await prepareDemoStore({ now: README_NOW, path: join(dir, 'demo.sqlite') });
  dnsServer = await startDnsServer();
  demoZone(dnsServer, demo.truth);
}, 120_000);
afterAll(async () => {
  await dnsServer.close();
  await demo.store.close();
  rmSync(dir, { recursive: true, force: true });
});

function contextFor(command: string) {
  const readsDns = /^dns\b/.test(command);
  return testContext(demo.store, {
    now: README_NOW,
    dns: readsDns ? createDnsResolver({ servers: [dnsServer.address], timeoutMs: 1000 }) : false,
  });
}

describe("the README's examples", () => {
  const examples = readmeExamples();

  it('are there: ready and ip, the commands the start banner suggests', () => {
    expect(examples.map((example) => example.command)).toEqual(expect.arrayContaining(['ready', 'ip 203.0.113.77']));
  });

  for (const example of examples) {
    it(`"${example.command}" answers with every line the README shows, in order`, async () => {
      const reply = await answer(example.command, contextFor(example.command));
      const output = renderTerminal(reply)
        .split('\n')
        .map((line) => line.trimEnd());
      let at = 0;
      for (const line of example.lines) {
        if (line.trim() === '...') continue;
        const found = output.indexOf(line, at);
        expect(
          found,
          `README line not in the answer (after line ${at}):\n${line}\n\nanswer:\n${output.join('\n')}`,
        ).toBeGreaterThanOrEqual(0);
        at = found + 1;
      }
    });
  }
});
