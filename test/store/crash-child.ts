// Child process of the SIGKILL crash test: ingests the generated reports into a store with a small
// write buffer, printing a line after every flush so the parent can kill it mid-work.
//   node --import tsx test/store/crash-child.ts <store-url> <namespace> <reports> [kill-self-at-flush]
// With the last argument, the child SIGKILLs itself in that flush, between the documents and the
// markers: the exact point the store's write order is designed for.

import { openStore } from '../../src/store/index.ts';
import { generateReports } from './factories.ts';

const [url, namespace, count, killAt] = process.argv.slice(2);
let flushes = 0;
if (!url || !namespace || !count) throw new Error('usage: crash-child.ts <store-url> <namespace> <reports>');
const store = await openStore(url, {
  namespace,
  limits: { maxPendingReports: 7 },
  hooks: {
    afterDocsWritten: () => {
      flushes += 1;
      if (killAt !== undefined && flushes === Number(killAt)) process.kill(process.pid, 'SIGKILL');
    },
    afterFlush: () => process.stdout.write('flushed\n'),
  },
});
const outcomes: Record<string, number> = {};
for (const report of generateReports(Number(count), 7)) {
  const outcome = await store.ingest(report, 'crash-test');
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}
await store.close();
process.stdout.write(`done ${JSON.stringify(outcomes)}\n`);
