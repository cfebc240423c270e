// One ingest pass of a bundled bench child (test/bench/ingest/child.ts), shared by bench:ingest and
// its A/B script: the child prints its figures as one JSON line at the end.
import { spawn } from 'node:child_process';

export interface ChildResult {
  messages: number;
  reports: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMb: number;
}

export function runIngestChild(
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    // the settings the project's launchers use (src/bin.mjs shebang, npm start, the systemd unit)
    const proc = spawn(process.execPath, ['--max-semi-space-size=4', ...nodeArgs, script], {
      env: { ...process.env, MALLOC_ARENA_MAX: '2', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('error', reject);
    proc.once('close', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line) return reject(new Error(`ingest child exited with ${code}: ${out}`));
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}
