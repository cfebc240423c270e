// Log lines for a person at a terminal, and the terminal chat's prompt kept clear of them.
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createLogLines, prettyLogLine } from '../../src/log-lines.ts';
import { createTerminalChat } from '../../src/chat/terminal/chat.ts';

function collector() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('log lines', () => {
  it('one readable line a record: time, level, message, then the fields', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5).getTime();
    const line = prettyLogLine(
      JSON.stringify({ level: 40, time, msg: 'lost the lease', holder: 'a b', shard: 0, nested: { x: 1 } }),
    );
    expect(line).toBe('03:04:05 WARN  lost the lease  holder="a b" shard=0 nested={"x":1}');
    expect(prettyLogLine('not json')).toBe('not json');
  });

  it('JSON lines stay JSON lines off a terminal; pretty ones are written through the prompt guard', () => {
    const json = collector();
    createLogger('info', createLogLines({ output: json.stream, pretty: false })).info({ n: 1 }, 'hello');
    expect(JSON.parse(json.text())).toMatchObject({ level: 30, msg: 'hello', n: 1 });

    const pretty = collector();
    const lines = createLogLines({ output: pretty.stream, pretty: true });
    const around: string[] = [];
    lines.aroundPrompt = (write) => {
      around.push('clear');
      write();
      around.push('redraw');
    };
    createLogger('info', lines).warn('careful');
    lines.note('a note');
    expect(around).toEqual(['clear', 'redraw', 'clear', 'redraw']);
    expect(pretty.text()).toMatch(/^\d\d:\d\d:\d\d WARN {2}careful\na note\n$/);
  });

  it('the terminal chat clears its prompt line for a log line and redraws the prompt with the typed text', async () => {
    const input = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode(mode: boolean): void };
    input.isTTY = true;
    input.setRawMode = () => undefined;
    const screen = collector();
    const output = Object.assign(screen.stream, { isTTY: true, columns: 80 });
    const lines = createLogLines({ output: screen.stream, pretty: true });
    let quits = 0;
    const chat = createTerminalChat({
      input,
      output,
      answer: async () => ({ title: 'answer', tone: 'info', blocks: [] }),
      render: (reply) => reply.title,
      logLines: lines,
      onQuit: () => void quits++,
    });
    input.write('ip 19');
    await new Promise((resolve) => setImmediate(resolve));
    createLogger('info', lines).info('digest sent');
    const text = screen.text();
    const logAt = text.indexOf('digest sent');
    // cleared (CSI 2K) and back to column 1 before the log line, then the prompt and the typed text again
    expect(text.slice(0, logAt)).toMatch(/dmarc> (\u001b\[\d+G)?ip 19\u001b\[2K\u001b\[1G\d\d:\d\d:\d\d INFO {2}$/);
    expect(text.slice(logAt)).toMatch(/^digest sent\n.*dmarc> (\u001b\[\d+G)?ip 19/s);
    // Ctrl-C at the prompt asks the bot to end (once)
    input.write('\u0003');
    await new Promise((resolve) => setImmediate(resolve));
    expect(quits).toBe(1);
    await chat.stop();
    expect(quits).toBe(1);
    expect(lines.aroundPrompt).toBeNull();
  });
});
