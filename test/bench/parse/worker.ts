// One (tool, input) measurement in a fresh process, so one tool's heap cannot inflate another's peak RSS.
// argv: TOOL REPS FILE... ; prints one JSON line with the timings and the process's peak RSS.
import { readFileSync } from 'node:fs';
import { TOOLS, type ToolName } from './tools.ts';

export interface WorkerResult {
  tool: ToolName;
  files: number;
  okFiles: number;
  bytes: number;
  records: number;
  /** the best (lowest) time of the timed passes over all files, ms */
  bestMs: number;
  /** the lowest process CPU time (user + system, all threads) of a pass, ms: steadier on a busy machine */
  bestCpuMs: number;
  passes: number;
  /** resident set size before the first parse and the process's peak, bytes */
  rssBefore: number;
  peakRss: number;
  firstError: string | null;
}

const [toolArg, repsArg, ...files] = process.argv.slice(2);
const tool = toolArg as ToolName;
const parse = TOOLS[tool];
if (!parse) throw new Error(`unknown tool ${toolArg}`);
const reps = Number(repsArg);
const inputs = files.map((path) => ({ path, bytes: readFileSync(path) }));
const gc = (globalThis as { gc?: () => void }).gc;

gc?.();
const rssBefore = process.memoryUsage().rss;
let bestMs = Infinity;
let bestCpuMs = Infinity;
let records = 0;
let okFiles = 0;
let firstError: string | null = null;
for (let pass = 0; pass < reps; pass++) {
  let passRecords = 0;
  let passOk = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const input of inputs) {
    try {
      passRecords += await parse(input.bytes, input.path);
      passOk++;
    } catch (error) {
      firstError ??= `${input.path}: ${String((error as Error).message ?? error)
        .split('\n')[0]!
        .slice(0, 160)}`;
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  bestMs = Math.min(bestMs, ms);
  bestCpuMs = Math.min(bestCpuMs, (cpu.user + cpu.system) / 1000);
  records = passRecords;
  okFiles = passOk;
  gc?.();
}

const result: WorkerResult = {
  tool,
  files: inputs.length,
  okFiles,
  bytes: inputs.reduce((n, i) => n + i.bytes.length, 0),
  records,
  bestMs,
  bestCpuMs,
  passes: reps,
  rssBefore,
  // maxRSS is in kilobytes
  peakRss: process.resourceUsage().maxRSS * 1024,
  firstError,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
