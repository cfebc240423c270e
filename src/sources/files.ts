// Report inputs from the file system: files and folders (walked recursively, sorted, hidden entries
// skipped), with mbox files split into one input per message. Yields one input at a time, so a
// folder of a million reports never sits in memory at once.

import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface Input {
  /** the path, or `path#N` for the N-th message (from 1) of an mbox file */
  source: string;
  /** the input's bytes; empty when `path` is given */
  bytes: Uint8Array;
  /** with `byPath`: a file left for the reader to read (as a stream), not read here */
  path?: string;
}

export interface ListOptions {
  /** called for a path that cannot be read; without it the error is thrown */
  onError?: (source: string, error: Error) => void;
  /** name files by their path instead of reading them (mbox files are still split here) */
  byPath?: boolean;
}

export async function* listInputs(paths: string[], options: ListOptions = {}): AsyncGenerator<Input> {
  for (const path of paths) yield* walk(path, options, true);
}

async function* walk(path: string, options: ListOptions, explicit: boolean): AsyncGenerator<Input> {
  // Hidden files and folders are skipped while walking; a path named on purpose is read.
  if (!explicit && basename(path).startsWith('.')) return;
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    report(path, error, options);
    return;
  }
  if (info.isDirectory()) {
    let names: string[];
    try {
      names = await readdir(path);
    } catch (error) {
      report(path, error, options);
      return;
    }
    names.sort();
    for (const name of names) yield* walk(join(path, name), options, false);
    return;
  }
  if (!info.isFile()) return;
  try {
    if (await isMbox(path)) yield* splitMbox(path);
    else if (options.byPath) yield { source: path, bytes: new Uint8Array(0), path };
    else yield { source: path, bytes: await readFile(path) };
  } catch (error) {
    report(path, error, options);
  }
}

/** Reads one file as inputs: the file itself, or the messages of an mbox. */
export async function readInputs(path: string): Promise<Input[]> {
  const inputs: Input[] = [];
  for await (const input of listInputs([path])) inputs.push(input);
  return inputs;
}

function report(source: string, error: unknown, options: ListOptions): void {
  const wrapped = error instanceof Error ? error : new Error(String(error));
  if (options.onError) options.onError(source, wrapped);
  else throw wrapped;
}

async function isMbox(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(5);
    const { bytesRead } = await handle.read(head, 0, 5, 0);
    return bytesRead === 5 && head.toString('latin1') === 'From ';
  } finally {
    await handle.close();
  }
}

/**
 * The messages of an mbox, streamed. A message starts at a line beginning "From " after a blank line
 * (or at the top); lines quoted as
 * ">From " (mboxrd and mboxo) lose one '>'. A file holding a single message (an .eml saved with its
 * envelope line) keeps the plain path as its source.
 */
async function* splitMbox(path: string): AsyncGenerator<Input> {
  let pending: Buffer[] | null = null; // the message being collected, as lines
  let held: Buffer | null = null; // the previous complete message, held to learn whether there are more
  let number = 0;
  let rest = Buffer.alloc(0);
  let previousBlank = true;

  const finish = (): Buffer | null => {
    if (!pending) return null;
    const message = Buffer.concat(pending);
    pending = null;
    return message;
  };

  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const newline = data.indexOf(0x0a, start);
      if (newline < 0) break;
      const line = data.subarray(start, newline + 1);
      start = newline + 1;
      // "From " starts a message only after a blank line, so an unquoted body line does not split one.
      const startsMessage = isFromLine(line) && previousBlank;
      previousBlank = line.length <= 2 && (line.length === 1 || line[0] === 0x0d);
      if (startsMessage) {
        const complete = finish();
        if (complete) {
          if (held) yield { source: `${path}#${number}`, bytes: held };
          held = complete;
          number++;
        }
        pending = [];
        continue; // the envelope line is not part of the message
      }
      (pending ??= []).push(unquoteFrom(line));
    }
    rest = Buffer.from(data.subarray(start));
  }
  if (rest.length) (pending ??= []).push(unquoteFrom(rest));
  const last = finish();
  if (last) {
    if (held) yield { source: `${path}#${number}`, bytes: held };
    held = last;
    number++;
  }
  if (held) yield { source: number === 1 ? path : `${path}#${number}`, bytes: held };
}

function isFromLine(line: Buffer): boolean {
  return (
    line.length >= 5 && line[0] === 0x46 && line[1] === 0x72 && line[2] === 0x6f && line[3] === 0x6d && line[4] === 0x20
  );
}

function unquoteFrom(line: Buffer): Buffer {
  if (line[0] !== 0x3e) return line;
  let quotes = 0;
  while (line[quotes] === 0x3e) quotes++;
  return line.subarray(quotes, quotes + 5).toString('latin1') === 'From ' ? line.subarray(1) : line;
}
