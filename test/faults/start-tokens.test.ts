// `dmarc-bot start` with a token the platform refuses: one line naming the setting, exit 1, no
// stack trace and no token in the output. Slack and Discord are the local stand-ins.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { cliEnv } from '../ingest/run-cli.ts';

let dir: string;
let slack: FakeSlack;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-tokens-'));
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['src/bin.mjs', 'start'], {
      env: cliEnv({ DMARC_STORE: `sqlite://${join(dir, `${Date.now()}.sqlite`)}`, ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('start with a refused chat token', () => {
  it('Slack answering invalid_auth: one line naming SLACK_BOT_TOKEN / SLACK_APP_TOKEN', async () => {
    const refused = { status: 200, body: { ok: false, error: 'invalid_auth' } };
    slack.failNext('auth.test', refused, refused, refused);
    slack.failNext('apps.connections.open', refused, refused, refused);
    const botToken = 'xoxb-1-2-refusedtoken';
    const appToken = 'xapp-1-A1-refusedapptoken';
    const result = await start({
      SLACK_BOT_TOKEN: botToken,
      SLACK_APP_TOKEN: appToken,
      SLACK_API_URL: slack.apiUrl,
      SLACK_DIGEST_CHANNEL: 'C0001',
    });
    expect(result.code).toBe(1);
    const lines = result.stderr
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('{'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Slack refused the token in SLACK_BOT_TOKEN \/ SLACK_APP_TOKEN \(.*invalid_auth/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr + result.stdout).not.toContain('refusedtoken');
    expect(result.stderr + result.stdout).not.toContain('refusedapptoken');
  });
});
