// Malformed /dmarc lines typed into a running `dmarc-bot start` (terminal mode, a child process):
// one per command of the registry plus hostile ones (5,000 characters, terminal control codes).
// Each is answered with one short line that quotes the input, says what was expected and gives an
// example that itself works; the bot keeps answering afterwards. The parser's wording per case is
// covered in test/commands/parse.test.ts; this is the end-to-end variant.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/command-kit/parse.ts';
import { commandRegistry } from '../../src/command-kit/registry.ts';
import { waitUntil } from './helpers.ts';

/** One malformed line per command; the test fails when a command is added without one. */
const MALFORMED: Record<string, { line: string; quoted: string }> = {
  ip: { line: '/dmarc ip 999.1.1.1', quoted: '999.1.1.1' },
  date: { line: '/dmarc date 2026-02-30', quoted: '2026-02-30' },
  ready: { line: '/dmarc ready not_a_domain!', quoted: 'not_a_domain!' },
  mark: { line: '/dmarc mark 203.0.113.5 maybe', quoted: 'maybe' },
  marks: { line: '/dmarc marks everything', quoted: 'everything' },
  failures: { line: '/dmarc failures not_a_domain!', quoted: 'not_a_domain!' },
  tls: { line: '/dmarc tls -3', quoted: '-3' },
  summary: { line: '/dmarc summary -3', quoted: '-3' },
  sources: { line: '/dmarc sources many', quoted: 'many' },
  dns: { line: '/dmarc dns not_a_domain!', quoted: 'not_a_domain!' },
  help: { line: '/dmarc help me', quoted: 'me' },
};
const HOSTILE = [
  { line: '/dmarc ipp 203.0.113.5', quoted: 'ipp' },
  { line: `/dmarc ip ${'9'.repeat(5000)}`, quoted: '9'.repeat(20) },
  // BEL, ESC [2J (clear screen) and NUL must not reach the terminal raw
  { line: '/dmarc date \u0007\u001b[2J\u0000', quoted: '\\u0007' },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-malformed-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fault: malformed /dmarc arguments, end to end', () => {
  it('answers every malformed line with a short usage error and keeps answering', async () => {
    expect(Object.keys(MALFORMED).sort()).toEqual(commandRegistry.map((command) => command.name).sort());
    const cases = [...Object.values(MALFORMED), ...HOSTILE];

    const child = spawn(process.execPath, [join(process.cwd(), 'src/bin.mjs'), 'start'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        TZ: 'UTC',
        LOG_LEVEL: 'info',
        DMARC_STORE: `sqlite://${join(dir, 'store.sqlite')}`,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // the first digest prints at start; the answers come after it
      await waitUntil('the first digest', () => /digest sent/.test(stderr), 30);
      const before = stdout.length;
      for (const { line } of cases) child.stdin.write(`${line}\n`);
      child.stdin.write('/dmarc help ip\n');
      await waitUntil('every line answered', () => stdout.slice(before).includes('/dmarc ip <address>'), 30);

      const output = stdout.slice(before);
      expect(output).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      // the answers come in the order asked; each usage error's text is its last line
      const answers = output
        .split(/^Usage error\n=+\n/m)
        .slice(1)
        .map((answer) => answer.trim().split('\n')[0]!);
      expect(answers).toHaveLength(cases.length);
      cases.forEach(({ quoted }, n) => {
        const answer = answers[n]!;
        expect(answer).toContain(quoted);
        expect(answer.length).toBeLessThan(200);
        const example = /Example: (\/dmarc .+)$/.exec(answer)?.[1];
        expect(example, answer).toBeDefined();
        // the example offered is a line that works
        expect('error' in parseCommandLine(example!.replace(/^\/dmarc /, ''), commandRegistry), example).toBe(false);
      });
      // the command the example is for is the command asked for
      Object.keys(MALFORMED).forEach((name, n) => expect(answers[n]).toContain(`Example: /dmarc ${name}`));
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(stderr).not.toMatch(/"level":(50|60)/);
  });
});
