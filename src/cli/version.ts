// `dmarc-bot --version`: the version in package.json, found above this module both when it runs
// from the sources (src/cli) and from the build (dist/src/cli).

import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  for (let up = 1; up <= 4; up++) {
    const url = new URL(`${'../'.repeat(up)}package.json`, import.meta.url);
    try {
      const manifest = JSON.parse(readFileSync(url, 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'dmarc-bot' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no package.json at this level: look one further up
    }
  }
  return 'unknown';
}
