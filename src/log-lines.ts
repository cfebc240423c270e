// Where the bot's log lines go. For a service (stderr not a terminal) they stay pino's JSON lines,
// one record a line, for the journal and log shippers. On a terminal each record becomes one
// readable line (time, level, message, fields), and while the terminal chat shows its prompt the
// line is written above it: the prompt line is cleared first and redrawn with what was typed.

import { Writable } from 'node:stream';

/** Writes that must not tear the prompt line go through this (the terminal chat sets it). */
export type AroundPrompt = (write: () => void) => void;

export interface LogLines extends Writable {
  /** set while a prompt is on the screen; null when nothing needs to be kept clear */
  aroundPrompt: AroundPrompt | null;
  /** a line for the person at the terminal (not a log record), written like the log lines */
  note(text: string): void;
}

const LEVELS: Readonly<Record<number, { name: string; colour: number }>> = {
  10: { name: 'TRACE', colour: 90 },
  20: { name: 'DEBUG', colour: 90 },
  30: { name: 'INFO', colour: 36 },
  40: { name: 'WARN', colour: 33 },
  50: { name: 'ERROR', colour: 31 },
  60: { name: 'FATAL', colour: 35 },
};

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** One pino JSON record as a line a person reads: `12:04:31 WARN  message key=value`. */
export function prettyLogLine(json: string, color = false): string {
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch {
    return json;
  }
  if (!record || typeof record !== 'object' || Array.isArray(record)) return json;
  const fields = new Map(Object.entries(record as Record<string, unknown>));
  const level = LEVELS[Number(fields.get('level'))] ?? { name: String(fields.get('level') ?? ''), colour: 0 };
  const time = Number(fields.get('time'));
  const message = typeof fields.get('msg') === 'string' ? (fields.get('msg') as string) : '';
  for (const key of ['level', 'time', 'msg']) fields.delete(key);
  const clock = Number.isFinite(time) ? new Date(time).toTimeString().slice(0, 8) : '--:--:--';
  const name = level.name.padEnd(5);
  const rest = [...fields].map(([key, value]) => `${key}=${fieldValue(value)}`).join(' ');
  const head = color ? `\u001b[90m${clock}\u001b[0m \u001b[${level.colour}m${name}\u001b[0m` : `${clock} ${name}`;
  return `${head} ${message}${rest ? `  ${color ? `\u001b[90m${rest}\u001b[0m` : rest}` : ''}`;
}

export function createLogLines(options: {
  output: NodeJS.WritableStream;
  /** one readable line a record (a terminal) instead of JSON lines */
  pretty: boolean;
  color?: boolean;
}): LogLines {
  let pending = '';
  const emit = (line: string) => {
    const write = () => void options.output.write(line + '\n');
    if (stream.aroundPrompt) stream.aroundPrompt(write);
    else write();
  };
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      let end: number;
      while ((end = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        emit(options.pretty ? prettyLogLine(line, options.color ?? false) : line);
      }
      done();
    },
  }) as LogLines;
  stream.aroundPrompt = null;
  stream.note = (text) => emit(text);
  return stream;
}
