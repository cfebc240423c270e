// node --import tsx test/bench/digest-profile.ts FILE [runs]: the digest over a bench:query store,
// run after run, with the CPU time (user+sys) and heap of each run (for profiles and side-by-side
// comparisons of two builds on a loaded machine).
import { existsSync } from 'node:fs';
import { openStore } from '../../src/store/index.ts';
import { queryDigest, type Timings } from '../../src/insight/queries.ts';
import { createIdentify } from '../../src/senders/identify.ts';
import { addDays, utcDay } from '../../src/insight/stats.ts';

const file = process.argv[2]!;
// openStore would create an empty store at a mistyped path
if (!existsSync(file)) throw new Error(`no store at ${file}`);
const runs = Number(process.argv[3] ?? 10);
const store = await openStore(`sqlite://${file}`);
const identify = createIdentify({ store, reverse: async () => [], resolve: async () => [], timeoutMs: 0 });
const lastDay = /-(\d{4}-\d{2}-\d{2})-/.exec(file)?.[1] ?? addDays(utcDay(Date.now()), -1);
const now = new Date(`${addDays(lastDay, 1)}T18:00:00Z`);
const since = new Date(now.getTime() - 86_400_000);
const cpu: number[] = [];
let result = '';
for (let run = 0; run <= runs; run++) {
  const timings: Timings = {};
  const start = process.cpuUsage();
  const data = await queryDigest(store, identify, { since, until: now, now, timings });
  const used = process.cpuUsage(start);
  if (run > 0) cpu.push((used.user + used.system) / 1000);
  result = JSON.stringify(data);
  if (process.env.VERBOSE) console.log(run, ((used.user + used.system) / 1000).toFixed(1), JSON.stringify(timings));
}
cpu.sort((a, b) => a - b);
const hash = (await import('node:crypto')).createHash('sha256').update(result).digest('hex').slice(0, 12);
console.log(
  JSON.stringify({
    cpuMedianMs: +cpu[cpu.length >> 1]!.toFixed(1),
    cpuMaxMs: +cpu[cpu.length - 1]!.toFixed(1),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    result: hash,
  }),
);
await store.close();
