// Progress for a long ingest: a bar (count, rate, ETA) on a terminal, periodic log lines otherwise.

import cliProgress from 'cli-progress';
import type { Logger } from '../log.ts';

export interface Progress {
  /** the total may grow (mbox files reveal their messages as they are read) */
  update(done: number, total: number): void;
  /** a line for the user (an error): printed at once, or after the bar so it does not tear it */
  note(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  logger: Logger;
  stream?: NodeJS.WriteStream;
  /** log line interval when not on a terminal */
  intervalMs?: number;
  now?: () => number;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  return stream.isTTY ? barProgress(options.label, stream) : logProgress(options);
}

function barProgress(label: string, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      etaBuffer: 200,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let running = false;
  const notes: string[] = [];
  return {
    note(line) {
      if (running) notes.push(line);
      else stream.write(`${line}\n`);
    },
    update(done, total) {
      const rate = (done / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1);
      if (!running) {
        bar.start(Math.max(total, 1), done, { rate });
        running = true;
      }
      if (total !== bar.getTotal()) bar.setTotal(Math.max(total, 1));
      bar.update(done, { rate });
    },
    stop() {
      if (running) bar.stop();
      running = false;
      for (const line of notes.splice(0)) stream.write(`${line}\n`);
    },
  };
}

function logProgress({
  label,
  logger,
  stream = process.stderr,
  intervalMs = 5000,
  now = Date.now,
}: ProgressOptions): Progress {
  const started = now();
  let lastLog = started;
  let last = { done: 0, total: 0 };
  const log = () => {
    const seconds = Math.max(0.001, (now() - started) / 1000);
    const rate = last.done / seconds;
    const remaining = rate > 0 && last.total > last.done ? Math.round((last.total - last.done) / rate) : null;
    logger.info(
      { done: last.done, total: last.total, perSecond: Number(rate.toFixed(1)), etaSeconds: remaining },
      `${label}: ${last.done}/${last.total}`,
    );
  };
  return {
    note(line) {
      stream.write(`${line}\n`);
    },
    update(done, total) {
      last = { done, total };
      if (now() - lastLog >= intervalMs) {
        lastLog = now();
        log();
      }
    },
    stop() {
      if (last.done > 0 && now() - started >= intervalMs) log();
    },
  };
}
