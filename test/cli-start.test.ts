import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregateRecord, AggregateReport } from '../src/model.ts';
import { openStore } from '../src/store/index.ts';
import { EXIT_CONFIG } from '../src/config.ts';

function record(ip: string, count: number, dmarc: 'pass' | 'fail'): AggregateRecord {
  return {
    sourceIp: ip,
    count,
    disposition: 'none',
    evaluated: { dkim: dmarc, spf: dmarc },
    dmarc,
    identifiers: { headerFrom: 'example.com', envelopeFrom: 'example.com', envelopeTo: null },
    reasons: [],
    authResults: {
      dkim: dmarc === 'pass' ? [{ domain: 'example.com', selector: 's1', result: 'pass' }] : [],
      spf: [{ domain: 'example.com', scope: 'mfrom', result: dmarc }],
    },
    alignment: { dkim: dmarc === 'pass', spf: dmarc === 'pass' },
  };
}

function report(day: string, id: string): AggregateReport {
  return {
    kind: 'aggregate',
    orgName: 'google.com',
    orgEmail: 'noreply-dmarc-support@google.com',
    reportId: id,
    begin: `${day}T00:00:00Z`,
    end: `${day}T23:59:59Z`,
    policy: {
      domain: 'example.com',
      p: 'none',
      sp: null,
      np: null,
      pct: 100,
      adkim: 'r',
      aspf: 'r',
      fo: null,
      testing: null,
    },
    records: [record('192.0.2.1', 37, 'pass'), record('203.0.113.9', 4, 'fail')],
    errors: [],
  };
}

describe('dmarc-bot start in terminal mode (child process)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dmarc-start-'));
    const store = await openStore(`sqlite://${join(dir, 'store.sqlite')}`);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const dayBefore = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    await store.ingest(report(yesterday, 'r-1'), 'test');
    await store.ingest(report(dayBefore, 'r-2'), 'test');
    await store.flush();
    await store.close();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** runs `dmarc-bot start` with a clean environment (no chat, no IMAP, no .env) */
  function startBot() {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
      TZ: 'UTC',
      LOG_LEVEL: 'debug',
      DIGEST_TIME: '09:00',
    };
    const child = spawn(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'start'], {
      cwd: dir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = async (predicate: () => boolean) => {
      while (!predicate() && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    return { child, out, exited, until };
  }

  it('answers a typed /dmarc ip line, prints the first digest once, and shuts down cleanly on SIGTERM', async () => {
    const first = startBot();
    first.child.stdin.write('/dmarc ip 192.0.2.1\n');
    // the two reports held 37 messages each from this IP
    await first.until(() => /\b74\b/.test(first.out.stdout) && /digest schedule checked/.test(first.out.stderr));
    expect(first.out.stdout).toContain('192.0.2.1');
    expect(first.out.stdout).toMatch(/\b74\b/);
    // never sent before: the digest of the last day is due at once and covers both reports
    await first.until(() => /digest sent/.test(first.out.stderr));
    expect(first.out.stdout).toMatch(/digest.*\b2 aggregate/i);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.out.stderr).not.toMatch(/"level":(50|60)/);

    // a restart the same day answers again but does not repeat the digest
    const second = startBot();
    second.child.stdin.write('ip 192.0.2.1\n');
    await second.until(() => /\b74\b/.test(second.out.stdout) && /digest schedule checked/.test(second.out.stderr));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.out.stdout).not.toMatch(/digest/i);
  });

  it('stops with one line naming a bad setting', async () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, DMARC_STORE: 'ftp://nowhere', TZ: 'UTC' };
    const child = spawn(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'start'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('DMARC_STORE');
  });

  it('names the missing Slack setting when HTTP mode has no signing secret', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      DMARC_STORE: `sqlite://${join(dir, 'other.sqlite')}`,
      SLACK_BOT_TOKEN: 'xoxb-secret-value-123',
    };
    const child = spawn(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'start'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(EXIT_CONFIG);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('SLACK_SIGNING_SECRET');
    expect(stderr).not.toContain('xoxb-secret-value-123');
  });
});
