// node --import tsx test/bench/query-profile.ts FILE QUERY [runs]: one query of bench:query (ip, date,
// ready, digest) over its store, run after run, with the CPU time (user+sys) of each run and a hash
// of every answer (for profiles and side-by-side comparisons of two builds on a loaded machine).
// VERBOSE=1 prints each run's CPU time; WARMUP=n leaves the first n runs out of the figures.
// Run it with the bench's settings: node --max-semi-space-size=4 (and MALLOC_ARENA_MAX=2).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { openStore } from '../../src/store/index.ts';
import { queryDate, queryDigest, queryIp, queryReady } from '../../src/insight/queries.ts';
import { DEFAULT_THRESHOLDS } from '../../src/insight/readiness.ts';
import { createIdentify } from '../../src/senders/identify.ts';
import { addDays, utcDay } from '../../src/insight/stats.ts';

const file = process.argv[2]!;
// openStore would create an empty store at a mistyped path
if (!existsSync(file)) throw new Error(`no store at ${file}`);
const query = process.argv[3] ?? 'ready';
const runs = Number(process.argv[4] ?? 10);
// runs left out of the figures (their answers are hashed too): WARMUP=10 for the steady state
const warmup = Number(process.env.WARMUP ?? 1);
const store = await openStore(`sqlite://${file}`);
const identify = createIdentify({ store, reverse: async () => [], resolve: async () => [], timeoutMs: 0 });
const lastDay = /-(\d{4}-\d{2}-\d{2})-/.exec(file)?.[1] ?? addDays(utcDay(Date.now()), -1);
const now = new Date(`${addDays(lastDay, 1)}T18:00:00Z`);
const since = new Date(now.getTime() - 86_400_000);
const ipOf = (index: number) => `198.${18 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`;

const run = async (i: number): Promise<unknown> => {
  switch (query) {
    case 'ip':
      // the bench's mix: a regular sender or a random one
      return queryIp(store, identify, ipOf(i % 2 ? (i * 37) % 500 : 500 + ((i * 7919) % 49_500)), { days: 30, now });
    case 'date':
      return queryDate(store, addDays(lastDay, -(i % 30)), identify, { now });
    case 'digest':
      return queryDigest(store, identify, { since, until: now, now });
    default:
      return queryReady(store, identify, 'busy.example', DEFAULT_THRESHOLDS, now);
  }
};

const cpu: number[] = [];
const hash = createHash('sha256');
for (let i = 0; i < warmup + runs; i++) {
  const start = process.cpuUsage();
  const result = await run(i);
  const used = process.cpuUsage(start);
  if (i >= warmup) cpu.push((used.user + used.system) / 1000);
  if (process.env.VERBOSE) console.log(i, ((used.user + used.system) / 1000).toFixed(1));
  hash.update(JSON.stringify(result));
}
cpu.sort((a, b) => a - b);
const memory = process.memoryUsage();
console.log(
  JSON.stringify({
    query,
    cpuMinMs: +cpu[0]!.toFixed(1),
    cpuMedianMs: +cpu[cpu.length >> 1]!.toFixed(1),
    cpuP90Ms: +cpu[Math.floor(cpu.length * 0.9)]!.toFixed(1),
    cpuMaxMs: +cpu[cpu.length - 1]!.toFixed(1),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapUsedMb: Math.round(memory.heapUsed / 1048576),
    result: hash.digest('hex').slice(0, 12),
  }),
);
await store.close();
