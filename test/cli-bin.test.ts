import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('`npx dmarc-bot` runs the TypeScript sources with no build step', async () => {
  const { stdout } = await run('npx', ['--no-install', 'dmarc-bot', '--help'], { cwd: process.cwd() });
  expect(stdout).toMatch(/^Usage:/);
  for (const command of ['parse', 'ingest', 'ask', 'digest', 'start', 'register-commands', 'doctor'])
    expect(stdout).toContain(`dmarc-bot ${command}`);
});

it('the bin file runs by its own shebang, with the memory settings it names', async () => {
  const { stdout } = await run(join(process.cwd(), 'src/bin.mjs'), ['--help']);
  expect(stdout).toMatch(/^Usage:/);
});

it('an unknown command is refused with the usage and exit status 2', async () => {
  const failure = await run(process.execPath, ['src/bin.mjs', 'frobnicate']).catch(
    (error: { code: number; stderr: string }) => error,
  );
  expect('code' in failure && failure.code).toBe(2);
  expect(failure.stderr).toContain('unknown command "frobnicate"');
});
