// `dmarc-bot start` with the terminal as its chat. At an interactive terminal (a real
// pseudo-terminal from util-linux `script`) Ctrl-D and Ctrl-C end the bot with status 0 and the
// store closed, and log lines are readable lines written above the prompt, never onto it. With
// stdin from /dev/null (a service) the bot runs on without a prompt, prints the digest on stdout
// and logs JSON lines.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregateReport } from '../../src/model.ts';
import { openStore } from '../../src/store/index.ts';

const bin = join(process.cwd(), 'src/bin.mjs');
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

function report(day: string): AggregateReport {
  return {
    kind: 'aggregate',
    orgName: 'google.com',
    orgEmail: null,
    reportId: `tty-${day}`,
    begin: `${day}T00:00:00Z`,
    end: `${day}T23:59:59Z`,
    policy: {
      domain: 'example.com',
      p: 'none',
      sp: null,
      np: null,
      pct: null,
      adkim: null,
      aspf: null,
      fo: null,
      testing: null,
    },
    records: [
      {
        sourceIp: '192.0.2.1',
        count: 41,
        disposition: 'none',
        evaluated: { dkim: 'pass', spf: 'pass' },
        dmarc: 'pass',
        identifiers: { headerFrom: 'example.com', envelopeFrom: null, envelopeTo: null },
        reasons: [],
        authResults: { dkim: [{ domain: 'example.com', selector: 's1', result: 'pass' }], spf: [] },
        alignment: { dkim: true, spf: false },
      },
    ],
    errors: [],
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-terminal-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A store of its own with one report from yesterday, so the first digest has something to say. */
async function freshStore(name: string): Promise<string> {
  const url = `sqlite://${join(dir, `${name}.sqlite`)}`;
  const store = await openStore(url);
  await store.ingest(report(new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)), 'test');
  await store.flush();
  await store.close();
  return url;
}

function environment(store: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    TERM: 'xterm',
    DMARC_STORE: store,
    DMARC_DEMO: '0',
    TZ: 'UTC',
    LOG_LEVEL: 'info',
    DNS_SERVERS: '127.0.0.1:9',
    DNS_TIMEOUT_MS: '200',
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, stdin: 'pipe' | 'ignore') {
  const child = spawn(command, args, { cwd: dir, env, stdio: [stdin, 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  const until = async (predicate: () => boolean) => {
    while (!predicate() && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  return { child, out, exited, until };
}

/** The screen's text without colours and cursor moves. */
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');

describe.skipIf(!hasScript)('start at an interactive terminal (pseudo-terminal)', () => {
  // `script -e` runs the bot on a new pseudo-terminal (stdin, stdout and stderr all TTYs) and
  // exits with its status; what is written to script's stdin is typed at that terminal.
  const atTerminal = async (name: string) =>
    run(
      'script',
      ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} start`, '/dev/null'],
      environment(await freshStore(name)),
      'pipe',
    );

  for (const [key, byte] of [
    ['Ctrl-D', '\u0004'],
    ['Ctrl-C', '\u0003'],
  ] as const) {
    it(`${key} ends the bot with status 0 and the store closed`, async () => {
      const bot = await atTerminal(key);
      await bot.until(() => /digest sent/.test(bot.out.stdout));
      bot.child.stdin!.write('ip 192.0.2.1\r');
      await bot.until(() => /\b41\b/.test(plain(bot.out.stdout)));
      await bot.until(() => plain(bot.out.stdout).trimEnd().endsWith('dmarc>'));
      bot.child.stdin!.write(byte);
      expect(await bot.exited).toBe(0);
      const screen = plain(bot.out.stdout);
      expect(screen).toMatch(/shutting down\s+by=terminal/);
      expect(screen).toContain('stopped: store closed');
      // readable log lines, not JSON
      expect(screen).toMatch(/\d\d:\d\d:\d\d INFO\s+digest sent/);
      expect(screen).not.toMatch(/\{"level":/);
      // each log line was written after the prompt line had been cleared (CSI 2K, column 1)
      expect(bot.out.stdout).toMatch(/dmarc> (\u001b\[\d*G)?\u001b\[2K\u001b\[1G\u001b\[90m\d\d:\d\d:\d\d/);
      // and a line of the screen never carries a log record behind the prompt
      const lines = bot.out.stdout.split(/\r?\n/).map((line) => plain(line.replace(/^.*\u001b\[2K/, '')));
      expect(lines.filter((line) => /dmarc> .*\d\d:\d\d:\d\d (INFO|WARN)/.test(line))).toEqual([]);
    });
  }
});

describe('start with stdin from /dev/null (a service)', () => {
  it('runs on without a prompt, prints the digest on stdout, logs JSON lines, ends on SIGTERM', async () => {
    const bot = run(process.execPath, [bin, 'start'], environment(await freshStore('service')), 'ignore');
    await bot.until(() => /"msg":"digest sent"/.test(bot.out.stderr));
    // end of input did not end it
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bot.child.exitCode).toBeNull();
    expect(bot.out.stdout).toMatch(/DMARC digest/);
    expect(bot.out.stdout).toMatch(/\b41\b/);
    expect(bot.out.stdout).not.toContain('dmarc> ');
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    const lines = bot.out.stderr.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain('stopped: store closed');
  });
});
