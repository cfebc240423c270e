// The installed command: the bundle in dist/ (made by `npm ci` through `prepare`, rebuilt here when
// a source is newer), run the way a user runs it, and the top-level help, version and exit codes.
// The bundle keeps native and data-file packages outside: the store (sqlite3) and the chart (the
// canvas add-on and the font file) are run from it too.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { DOMAIN, FORGOTTEN, scenarioReports, storeWith } from './commands/scenario.ts';

const run = promisify(execFile);
const root = process.cwd();
const built = join(root, 'dist/src/bin.js');
const BUILD_TIMEOUT = 300_000;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile() && entry.name.endsWith('.ts'))
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  return newest;
}

function buildIsCurrent(): boolean {
  try {
    return (
      statSync(built).mtimeMs >=
      Math.max(
        newestSource(join(root, 'src')),
        newestSource(join(root, 'commands')),
        statSync(join(root, 'build.ts')).mtimeMs,
      )
    );
  } catch {
    return false;
  }
}

async function cli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(built, args, { cwd, env: { PATH: process.env.PATH, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

let cwd: string;
beforeAll(async () => {
  if (!buildIsCurrent()) await run('npm', ['run', 'build'], { cwd: root });
  cwd = mkdtempSync(join(tmpdir(), 'dmarc-bin-'));
}, BUILD_TIMEOUT);
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('the built dmarc-bot', () => {
  it('runs by its own shebang and lists every subcommand', async () => {
    const { code, stdout } = await cli(['help'], cwd);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage:/);
    for (const command of ['parse', 'ingest', 'ask', 'digest', 'start', 'register-commands', 'doctor'])
      expect(stdout).toContain(`dmarc-bot ${command}`);
  });

  it('prints the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const { code, stdout } = await cli(['--version'], cwd);
    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });

  it('reads a report with the compiled reader worker', async () => {
    const report = join(root, 'test/fixtures/corpus/extract_report/nice-input.xml');
    const { code, stdout } = await cli(['parse', report], cwd);
    expect(code).toBe(0);
    expect(stdout).toContain('20 records, 3047 messages');
  });

  it('answers `ask help` from the build', async () => {
    const { code, stdout } = await cli(['ask', 'help'], cwd);
    expect(code).toBe(0);
    expect(stdout).toContain('/dmarc ip');
  });

  it('answers `ask ready` and `ask ip` from a SQLite store', async () => {
    const fixture = await storeWith(scenarioReports());
    await fixture.store.close(); // the command opens the file itself
    try {
      const env = { DMARC_STORE: fixture.url, DNS_SERVERS: '127.0.0.1:9', DNS_TIMEOUT_MS: '200', LOG_LEVEL: 'silent' };
      const ready = await cli(['ask', `ready ${DOMAIN} days:3650`, '--json'], cwd, env);
      expect(ready.code).toBe(0);
      expect(JSON.parse(ready.stdout)).toMatchObject({ domain: DOMAIN, verdict: 'not-ready' });
      const ip = await cli(['ask', `ip ${FORGOTTEN} days:3650`, '--json'], cwd, env);
      expect(ip.code).toBe(0);
      expect(JSON.parse(ip.stdout)).toMatchObject({ ip: FORGOTTEN, messages: 580 });
    } finally {
      await fixture.close();
    }
  });

  it('draws the trend chart as a PNG', async () => {
    const fixture = await storeWith(scenarioReports());
    await fixture.store.close();
    const out = mkdtempSync(join(tmpdir(), 'dmarc-bin-chart-'));
    try {
      const file = join(out, 'chart.png');
      const env = { DMARC_STORE: fixture.url, LOG_LEVEL: 'silent' };
      const { code } = await cli(['chart', DOMAIN, '--days', '366', '--out', file], cwd, env);
      expect(code).toBe(0);
      const png = PNG.sync.read(readFileSync(file));
      expect(png.width).toBeGreaterThan(0);
      expect(png.height).toBeGreaterThan(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
      await fixture.close();
    }
  });

  it('is what package.json names as bin and `npm start` runs, and the package ships no tests', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
      files: string[];
      dependencies: Record<string, string>;
    };
    expect(join(root, manifest.bin['dmarc-bot']!)).toBe(built);
    expect(manifest.scripts.start).toContain('dist/src/bin.js start');
    expect(manifest.files.some((entry) => entry.startsWith('test'))).toBe(false);
    expect(Object.keys(manifest.dependencies)).not.toContain('tsx');
    expect(Object.keys(manifest.dependencies)).not.toContain('typescript');
  });

  it('requires sqlite3 rather than importing it (an ES import of a CommonJS file costs a scan of it)', () => {
    const chunks = readdirSync(join(root, 'dist/src')).filter((name) => name.endsWith('.js'));
    const code = chunks.map((name) => readFileSync(join(root, 'dist/src', name), 'utf8')).join('\n');
    expect(code).toContain('__require("sqlite3")');
    expect(code).not.toMatch(/from\s*"sqlite3"|import\(\s*"sqlite3"\s*\)/);
  });
});

describe('exit codes', () => {
  it('refuses an unknown command with one line and status 2', async () => {
    const { code, stderr } = await cli(['frobnicate'], cwd);
    expect(code).toBe(2);
    expect(stderr).toBe('dmarc-bot: unknown command "frobnicate" (see dmarc-bot help)\n');
  });

  it('refuses an unknown option of a subcommand with one line and status 2', async () => {
    for (const command of ['parse', 'ingest', 'ask', 'digest', 'doctor', 'start', 'register-commands']) {
      const { code, stdout, stderr } = await cli([command, '--frobnicate'], cwd);
      expect({ command, code }).toEqual({ command, code: 2 });
      expect(stdout).toBe('');
      expect(stderr).toBe(`dmarc-bot ${command}: unknown option '--frobnicate' (see dmarc-bot ${command} --help)\n`);
    }
  });

  it('`help <command>` and `<command> --help` print the same usage, with status 0', async () => {
    for (const command of ['parse', 'ingest', 'ask', 'digest', 'doctor', 'start', 'register-commands']) {
      const viaHelp = await cli(['help', command], cwd);
      const viaFlag = await cli([command, '--help'], cwd);
      expect(viaHelp.code).toBe(0);
      expect(viaHelp.stdout).toMatch(/^Usage:/);
      expect(viaFlag).toEqual(viaHelp);
    }
    const unknown = await cli(['help', 'frobnicate'], cwd);
    expect(unknown.code).toBe(2);
  });

  it('none of these write anything into the working folder', () => {
    expect(readdirSync(cwd)).toEqual([]);
  });
});
