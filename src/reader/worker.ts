// The reader's worker thread: reads one input at a time for the main thread (src/reader/bounded.ts),
// so that a hang, a long synchronous parse or a memory blow-up stays here, where it can be stopped.

import { parentPort } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { openMergingSink } from '../store/merge.ts';
import { readReportFile, readReports, type ReadOptions, type ReadOutcome } from './index.ts';
import type { WorkerReply, WorkerRequest } from './bounded.ts';

const port = parentPort;
if (!port) throw new Error('src/reader/worker.ts runs as a worker thread only');

port.on('message', (request: WorkerRequest) => {
  const options: ReadOptions = { ...request.options, now: new Date(request.nowMs) };
  read(request, options).then(
    (outcome) => {
      const reply: WorkerReply = {
        id: request.id,
        reports: request.json ? [] : outcome.reports,
        reportsJson: request.json ? outcome.reports.map((report) => JSON.stringify(report)) : [],
        errors: outcome.errors.map((error) => ({ code: error.code, source: error.source, message: error.message })),
      };
      port.postMessage(reply);
    },
    (error: unknown) => {
      // readReports names every failure itself; this is a last resort so the main thread never waits
      const reply: WorkerReply = {
        id: request.id,
        reports: [],
        reportsJson: [],
        errors: [
          {
            code: 'not-a-report',
            source: request.options.source,
            message: `${request.options.source}: reader failed (${error instanceof Error ? error.message : String(error)})`,
          },
        ],
      };
      port.postMessage(reply);
    },
  );
});

async function read(request: WorkerRequest, options: ReadOptions): Promise<ReadOutcome> {
  if (request.path === undefined)
    return readReports(request.bytes, options, request.merge ? openMergingSink : undefined);
  if (request.merge) return readReportFile(request.path, options, openMergingSink);
  // whole reports (parse --json): the file is read whole, as its bytes would be
  return readReports(await readFile(request.path), options);
}

port.postMessage('ready');
