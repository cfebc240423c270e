import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmarc-start-demo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('`dmarc-bot start` with nothing configured runs the demo: notice, first digest, answers at the prompt', async () => {
  // a clean environment: no store, no mailbox, no chat, no .env in the working folder
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, TZ: 'UTC' };
  const child = spawn(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'start'], {
    cwd: dir,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = async (predicate: () => boolean) => {
    while (!predicate() && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  try {
    await until(() => /DMARC digest/.test(stdout));
    expect(stdout).toContain('demo data');
    expect(stdout).toContain('IMAP_HOST');
    // the first digest holds the month of example reports
    expect(stdout).toMatch(/DMARC digest: [\d,]+ reports \([\d,]+ aggregate/);
    expect(stdout).toContain('example.com');
    child.stdin.write('/dmarc ready\n');
    await until(() => /Blockers/.test(stdout));
    expect(stdout).toContain('unconfirmed regular sender');
    // a malformed argument gets a short usage answer, and the bot goes on
    child.stdin.write('/dmarc ip 999.1.1.1\n');
    await until(() => /999\.1\.1\.1/.test(stdout));
    expect(stdout.slice(stdout.indexOf('999.1.1.1'))).toMatch(/ip 203\.0\.113\.5/);
    // the demo store lives in the working folder's data/, never in a configured store
    expect(existsSync(join(dir, 'data', 'demo.sqlite'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'dmarc.sqlite'))).toBe(false);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  // quiet logs in the demo: no JSON info lines on the newcomer's terminal
  expect(stderr).not.toMatch(/"level":30/);
});
