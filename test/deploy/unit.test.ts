// The systemd unit: it does not restart on a configuration error (the program's own exit status),
// creates private files, and keeps a low exposure in `systemd-analyze security` where available.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CONFIG } from '../../src/config.ts';

const UNIT = new URL('../../deploy/dmarc-bot.service', import.meta.url);
const settings = readFileSync(UNIT, 'utf8')
  .split('\n')
  .filter((line) => /^[A-Za-z]+=/.test(line))
  .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
const setting = (name: string) => settings.filter(([key]) => key === name).map(([, value]) => value);

function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('deploy/dmarc-bot.service', () => {
  it('stays stopped on a configuration error and creates files for its user only', () => {
    expect(setting('RestartPreventExitStatus')).toEqual([String(EXIT_CONFIG)]);
    expect(setting('Restart')).toEqual(['on-failure']);
    expect(setting('UMask')).toEqual(['0077']);
    expect(setting('CapabilityBoundingSet')).toEqual(['']);
    // V8's JIT needs writable-then-executable memory
    expect(setting('MemoryDenyWriteExecute')).toEqual([]);
  });

  it.runIf(hasSystemdAnalyze())('systemd-analyze: the unit verifies and its exposure is low', () => {
    execFileSync('systemd-analyze', ['verify', UNIT.pathname], { stdio: 'pipe' });
    const report = execFileSync('systemd-analyze', ['security', '--offline=true', UNIT.pathname], {
      encoding: 'utf8',
    });
    const score = Number(/Overall exposure level for .*: (\d+\.\d+)/.exec(report)?.[1]);
    expect(score).toBeLessThanOrEqual(2);
  });
});
