// The hostile mails of test/support/hostile-mails.ts between good report mails, end to end as a
// user runs the program: one `ingest --imap` pass over a real Dovecot mailbox, `parse` and
// `ingest PATH` over the same set as files. Each case carries its expected outcome; the good
// figures are checked through `ask --json` against what the generator built.

import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregateReport } from '../../src/model.ts';
import { ingestInput } from '../../src/ingest/pipeline.ts';
import { closeBoundedReader } from '../../src/reader/bounded.ts';
import { openStore } from '../../src/store/index.ts';
import { disposeDovecot, startDovecot, type DovecotServer } from '../support/dovecot.ts';
import { hostileSet, utcDay, type HostileCase } from '../support/hostile-mails.ts';
import { testClient } from '../support/mail.ts';
import { skipWithout } from '../support/servers.ts';
import { runCli, startCli, type CliResult } from '../ingest/run-cli.ts';

const OLD_DAYS_AGO = 20;
const RECENT_DAYS_AGO = 2;
/** RETENTION_DAYS of the later run: drops the old day, keeps the recent one */
const RETENTION_DAYS = 10;
// the pass reads a 70 MB mail and waits out one mail's deadline; on a loaded two-core machine
// (each child also loads tsx) that takes a while, so the allowance is generous: it catches a
// hang, not a slow run
const PASS_ALLOWANCE_MS = 180_000;
const TEST_TIMEOUT_MS = 420_000;
// the maildir belongs to Dovecot's mail user (test/support/dovecot.ts)
const MAIL_UID = 8;
const MAIL_GID = 8;

let dir: string;
let cases: HostileCase[];
const filesDir = () => join(dir, 'files');
const mailPath = (c: HostileCase) => join(filesDir(), `${c.name}.eml`);
const filePath = (c: HostileCase) => join(filesDir(), `${c.name}.${c.file!.ext}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-hostile-'));
  mkdirSync(filesDir());
  cases = await hostileSet({
    seed: 'hostile-intake',
    oldDay: utcDay(OLD_DAYS_AGO),
    recentDay: utcDay(RECENT_DAYS_AGO),
  });
  for (const c of cases) {
    await c.writeMail(mailPath(c));
    if (c.file) await c.file.write(filePath(c));
  }
}, 120_000);

afterAll(async () => {
  await closeBoundedReader();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const processed = () => cases.filter((c) => c.expected.folder === 'Processed');
const invalid = () => cases.filter((c) => c.expected.folder === 'Invalid');
/** the reason a refused case must be given */
function reason(c: HostileCase): RegExp {
  if (c.expected.folder !== 'Invalid') throw new Error(`${c.name} is not refused`);
  return c.expected.reason;
}
const storedReports = () => cases.flatMap((c) => c.stored);

// ---- the figures the good data was built with ------------------------------------------------

interface Tally {
  messages: number;
  dmarcPass: number;
}

interface Figures {
  total: Tally;
  domains: Map<string, Tally & { reports: number; days: Set<string>; dispositions: Map<string, number> }>;
  days: Map<string, Tally & { reports: Map<string, number> }>;
  ips: Map<string, Tally & { days: Map<string, number>; headerFrom: Map<string, number> }>;
}

function figures(reports: AggregateReport[]): Figures {
  const result: Figures = { total: { messages: 0, dmarcPass: 0 }, domains: new Map(), days: new Map(), ips: new Map() };
  for (const report of reports) {
    const day = report.begin.slice(0, 10);
    const domain = report.policy.domain;
    const perDomain = result.domains.get(domain) ?? {
      messages: 0,
      dmarcPass: 0,
      reports: 0,
      days: new Set<string>(),
      dispositions: new Map<string, number>(),
    };
    result.domains.set(domain, perDomain);
    perDomain.reports += 1;
    perDomain.days.add(day);
    const perDay = result.days.get(day) ?? { messages: 0, dmarcPass: 0, reports: new Map<string, number>() };
    result.days.set(day, perDay);
    let reportMessages = 0;
    for (const record of report.records) {
      const pass = record.dmarc === 'pass' ? record.count : 0;
      reportMessages += record.count;
      for (const tally of [result.total, perDomain, perDay]) {
        tally.messages += record.count;
        tally.dmarcPass += pass;
      }
      perDomain.dispositions.set(
        record.disposition,
        (perDomain.dispositions.get(record.disposition) ?? 0) + record.count,
      );
      const perIp = result.ips.get(record.sourceIp) ?? {
        messages: 0,
        dmarcPass: 0,
        days: new Map<string, number>(),
        headerFrom: new Map<string, number>(),
      };
      result.ips.set(record.sourceIp, perIp);
      perIp.messages += record.count;
      perIp.dmarcPass += pass;
      perIp.days.set(day, (perIp.days.get(day) ?? 0) + record.count);
      const from = record.identifiers.headerFrom;
      perIp.headerFrom.set(from, (perIp.headerFrom.get(from) ?? 0) + record.count);
    }
    perDay.reports.set(report.reportId, reportMessages);
  }
  return result;
}

async function ask(store: string, command: string): Promise<Record<string, unknown>> {
  const result = await runCli(['ask', command, '--json'], {
    DMARC_STORE: store,
    DNS_SERVERS: '127.0.0.1:9',
    DNS_TIMEOUT_MS: '200',
    LOG_LEVEL: 'silent',
  });
  expect(result.stderr, `ask "${command}"`).toBe('');
  expect(result.code, `ask "${command}"`).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

type Answer = Record<string, unknown>;
const list = (value: unknown) => value as Answer[];

/** `summary`, `sources`, `date`, `ready` and `ip` answer exactly what the reports hold. */
async function expectAnswers(store: string, expected: Figures, full = true): Promise<void> {
  const summary = await ask(store, 'summary 60');
  expect({ messages: summary.messages, dmarcPass: summary.dmarcPass }).toEqual(expected.total);
  const domains = list(summary.domains);
  expect(domains.map((d) => d.domain).sort()).toEqual([...expected.domains.keys()].sort());
  for (const [domain, want] of expected.domains) {
    const got = domains.find((d) => d.domain === domain)!;
    expect(got, domain).toMatchObject({
      messages: want.messages,
      dmarcPass: want.dmarcPass,
      reports: want.reports,
      daysWithReports: want.days.size,
    });
    // own data keys: "constructor" is a disposition here, never Object's constructor
    expect(got.dispositions, domain).toEqual(Object.fromEntries(want.dispositions));
  }
  expect(JSON.stringify(summary)).not.toContain('function');

  for (const [day, want] of expected.days) {
    const date = await ask(store, `date ${day}`);
    expect(date, day).toMatchObject({ messages: want.messages, dmarcPass: want.dmarcPass, reports: want.reports.size });
    const reports = list(date.domains).flatMap((d) => list(d.reports));
    expect(Object.fromEntries(reports.map((r) => [r.reportId, r.messages])), day).toEqual(
      Object.fromEntries(want.reports),
    );
    for (const report of reports) expect(String(report.orgName)).not.toMatch(/[\x00-\x1f\x7f]/);
  }
  if (!full) return;

  const sources = await ask(store, 'sources 60');
  expect(sources.messages).toBe(expected.total.messages);
  for (const [domain, want] of expected.domains) {
    const ready = await ask(store, `ready ${domain} days:60`);
    expect(ready.domain).toBe(domain);
    expect(list(ready.checks).find((check) => check.id === 'days-with-reports')?.value, domain).toBe(want.days.size);
    expect(
      list(ready.sources).reduce((sum, source) => sum + Number(source.messages), 0),
      domain,
    ).toBe(want.messages);
  }
  // the busiest IPs, and one of the reports that carried prototype keys
  const byVolume = [...expected.ips].sort((a, b) => b[1].messages - a[1].messages);
  const protoKeyed = byVolume.filter(
    ([, want]) => want.headerFrom.has('constructor') || want.headerFrom.has('__proto__'),
  );
  expect(protoKeyed.length).toBeGreaterThan(0);
  for (const [ip, want] of [...byVolume.slice(0, 3), ...protoKeyed]) {
    const answer = await ask(store, `ip ${ip} days:60`);
    expect(answer, ip).toMatchObject({ ip, known: true, messages: want.messages, dmarcPass: want.dmarcPass });
    expect(Object.fromEntries(list(answer.days).map((d) => [d.date, d.messages])), ip).toEqual(
      Object.fromEntries(want.days),
    );
    expect(Object.fromEntries(list(answer.headerFrom).map((row) => [row.key, row.messages])), ip).toEqual(
      Object.fromEntries(want.headerFrom),
    );
  }
  // a legacy form is not reinterpreted as another address
  for (const ip of ['8.0.0.1', '10.0.0.1']) {
    if (expected.ips.has(ip)) continue;
    expect(await ask(store, `ip ${ip} days:60`), ip).toMatchObject({ known: false, messages: 0 });
  }
}

function storeFileBytes(url: string): number {
  const path = url.replace(/^sqlite:\/\//, '');
  return [path, `${path}-wal`].reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0);
}

/** The same good reports, ingested alone into a fresh store. */
async function referenceStoreBytes(): Promise<number> {
  const url = `sqlite://${join(mkdtempSync(join(dir, 'reference-')), 'store.sqlite')}`;
  const store = await openStore(url);
  try {
    for (const c of processed()) await ingestInput({ source: c.name, bytes: readFileSync(mailPath(c)) }, { store });
    await store.flush();
  } finally {
    await store.close();
  }
  return storeFileBytes(url);
}

function freshStoreUrl(label: string): string {
  return `sqlite://${join(mkdtempSync(join(dir, `${label}-`)), 'store.sqlite')}`;
}

/** An `error:` line about this input or a part inside it (not about a file whose name extends it). */
function startsWithError(line: string, path: string): boolean {
  return line.startsWith(`error: ${path}`) && /^[: ]/.test(line.slice(`error: ${path}`.length));
}

function jsonLines(stderr: string): Answer[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Answer);
}

describe('hostile input as files', () => {
  it(
    '`parse` gives every file an outcome line: each report summarised with its notes, each refusal with its reason; exit 1',
    async () => {
      const result = await runCli(['parse', filesDir()], {});
      expect(result.code).toBe(1);
      const lines = result.stdout.trim().split('\n');
      const inputs = cases.flatMap((c) => [{ c, path: mailPath(c) }, ...(c.file ? [{ c, path: filePath(c) }] : [])]);
      for (const { c, path } of inputs) {
        const own = lines.filter((line) => line.startsWith(`${path}:`) || startsWithError(line, path));
        if (c.expected.folder === 'Processed') {
          const summaries = own.filter((line) => line.startsWith(`${path}: `) && !line.includes(': error: '));
          expect(summaries, c.name).toHaveLength(c.stored.length + c.failures);
          for (const [i, report] of c.stored.entries()) {
            const notes = c.expected.notes ? `, ${c.expected.notes} note(s)` : '';
            const messages = report.records.reduce((sum, record) => sum + record.count, 0);
            expect(summaries[i], c.name).toMatch(
              new RegExp(
                `: ${report.records.length} records, ${messages} messages, \\d+ DMARC pass${notes.replace(/[()]/g, '\\$&')}$`,
              ),
            );
          }
          expect(
            own.filter((line) => line.includes('error')),
            c.name,
          ).toEqual([]);
        } else {
          expect(own, c.name).toHaveLength(1);
          expect(own[0], c.name).toMatch(c.expected.reason);
        }
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    '`ingest PATH` stores the good reports exactly, names every refused file with its reason, and exits 1',
    async () => {
      const DMARC_STORE = freshStoreUrl('files');
      const result = await runCli(['ingest', filesDir()], { DMARC_STORE });
      expect(result.code).toBe(1);
      const reports = storedReports().length + cases.reduce((sum, c) => sum + c.failures, 0);
      const duplicates = processed().reduce((sum, c) => sum + (c.file ? c.stored.length : 0), 0);
      const refusedInputs = invalid().reduce((sum, c) => sum + (c.file ? 2 : 1), 0);
      expect(result.stdout.trim().split('\n').at(-1)).toBe(
        `ingested ${reports} reports (${duplicates} duplicates, ${refusedInputs} errors)`,
      );
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error: '));
      for (const c of invalid())
        for (const path of [mailPath(c), ...(c.file ? [filePath(c)] : [])]) {
          const named = errors.filter((line) => startsWithError(line, path));
          expect(named, path).toHaveLength(1);
          expect(named[0], path).toMatch(reason(c));
        }
      await expectAnswers(DMARC_STORE, figures(storedReports()), false);
    },
    TEST_TIMEOUT_MS,
  );
});

describe.skipIf(skipWithout('dovecot'))('hostile input in the mailbox: one `ingest --imap` pass', () => {
  let dovecot: DovecotServer;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(async () => {
    if (dovecot) await disposeDovecot(dovecot);
  });

  /** Puts the case mails into the user's INBOX maildir as a delivery agent does, big ones copied as files. */
  function deliverCases(user: string): void {
    dovecot.deliver(user, []); // makes the maildir
    const target = join(dovecot.dir, 'mail', user, 'Maildir', 'new');
    cases.forEach((c, i) => {
      const path = join(
        target,
        `${Math.floor(Date.now() / 1000)}.H${String(i).padStart(4, '0')}P${process.pid}.hostile`,
      );
      copyFileSync(mailPath(c), path);
      chownSync(path, MAIL_UID, MAIL_GID);
    });
  }

  async function messageIds(account: { user: string; password: string }): Promise<Record<string, Map<number, string>>> {
    const client = await testClient(dovecot, account);
    const folders: Record<string, Map<number, string>> = {};
    try {
      for (const folder of ['INBOX', 'DMARC/Processed', 'DMARC/Invalid']) {
        const ids = new Map<number, string>();
        folders[folder] = ids;
        if (!(await client.list()).some((box) => box.path === folder)) continue;
        const lock = await client.getMailboxLock(folder);
        try {
          if (client.mailbox && client.mailbox.exists > 0)
            for await (const message of client.fetch('1:*', { uid: true, envelope: true }, { uid: true }))
              ids.set(message.uid, message.envelope?.messageId ?? '');
        } finally {
          lock.release();
        }
      }
    } finally {
      await client.logout();
    }
    return folders;
  }

  it(
    'empties INBOX: good mail to Processed with exact figures, hostile mail to Invalid with its reason, a store within a small multiple of the good data, Object.prototype untouched; a later run with retention finishes',
    async () => {
      const account = dovecot.user();
      deliverCases(account.user);
      const before = await messageIds(account);
      expect(before.INBOX!.size).toBe(cases.length);
      const caseOfUid = new Map(
        [...before.INBOX!].map(([uid, id]) => [uid, cases.find((c) => c.messageId === id)!] as const),
      );

      const DMARC_STORE = freshStoreUrl('imap');
      const env = {
        DMARC_STORE,
        IMAP_HOST: dovecot.host,
        IMAP_PORT: String(dovecot.port),
        IMAP_USER: account.user,
        IMAP_PASSWORD: account.password,
        IMAP_TLS: 'off',
        NODE_OPTIONS:
          `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(join(import.meta.dirname, '../support/prototype-probe.mjs')).href}`.trim(),
      };
      const pass = startCli(['ingest', '--imap'], env);
      let guard: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        pass.done,
        new Promise<null>((resolve) => (guard = setTimeout(() => resolve(null), PASS_ALLOWANCE_MS))),
      ]);
      clearTimeout(guard);
      if (result === null) {
        pass.child.kill('SIGKILL');
        throw new Error(`the ingest --imap pass did not finish within ${PASS_ALLOWANCE_MS / 1000} s`);
      }
      const done: CliResult = result;
      expect(done.code, done.stderr).toBe(0);
      const reports = storedReports().length + cases.reduce((sum, c) => sum + c.failures, 0);
      expect(done.stdout).toContain(`ingested ${reports} reports (0 duplicates, ${invalid().length} errors)`);
      expect(done.stdout).toContain(
        `mailbox INBOX: ${cases.length} messages, ${processed().length} processed, ${invalid().length} without a report`,
      );

      // every mail where its case says, INBOX empty
      const after = await messageIds(account);
      expect(after.INBOX!.size).toBe(0);
      expect([...after['DMARC/Processed']!.values()].sort()).toEqual(
        processed()
          .map((c) => c.messageId)
          .sort(),
      );
      expect([...after['DMARC/Invalid']!.values()].sort()).toEqual(
        invalid()
          .map((c) => c.messageId)
          .sort(),
      );

      // the reason of each refusal, in the log line the pass writes for it
      const logged = jsonLines(done.stderr);
      const refusals = logged.filter((line) => line.msg === 'message holds no report: moving it to the invalid folder');
      expect(refusals).toHaveLength(invalid().length);
      for (const line of refusals) {
        const uid = Number(/^imap:INBOX\/(\d+)$/.exec(String(line.source))?.[1]);
        const c = caseOfUid.get(uid)!;
        expect(c.expected.folder, c.name).toBe('Invalid');
        if (c.expected.folder === 'Invalid') expect(String(line.reason), c.name).toMatch(c.expected.reason);
        // and the pass's own output names it too
        const printed = done.stderr
          .split('\n')
          .filter((text) => new RegExp(`^error: imap:INBOX/${uid}[ :]`).test(text));
        expect(printed, c.name).toHaveLength(1);
        expect(printed[0], c.name).toMatch(reason(c));
      }
      // nothing was added to Object.prototype in the ingesting process
      expect(logged.filter((line) => line.probe === 'prototype')).toEqual([
        { probe: 'prototype', added: [], enumerable: [] },
      ]);

      // what the bloated attachment and the big XML did to the store: nothing
      const reference = await referenceStoreBytes();
      const bytes = storeFileBytes(DMARC_STORE);
      expect(bytes, `store ${bytes} bytes, the good reports alone ${reference}`).toBeLessThan(2 * reference);

      await expectAnswers(DMARC_STORE, figures(storedReports()));

      // retention on: the prune ends, the old day goes, the recent one stays exact
      const later = await runCli(['ingest', '--imap'], { ...env, RETENTION_DAYS: String(RETENTION_DAYS) });
      expect(later.code, later.stderr).toBe(0);
      expect(later.stdout).toContain('ingested 0 reports (0 duplicates, 0 errors)');
      const recentDay = utcDay(RECENT_DAYS_AGO);
      expect(await ask(DMARC_STORE, `date ${utcDay(OLD_DAYS_AGO)}`)).toMatchObject({ reports: 0, messages: 0 });
      await expectAnswers(
        DMARC_STORE,
        figures(storedReports().filter((report) => report.begin.startsWith(recentDay))),
        false,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
