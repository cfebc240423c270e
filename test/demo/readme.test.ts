// The README's example answers come from the demo: every `$ npx dmarc-bot ask "..."` block is run
// against a demo store made for the date the README names, and each line it shows must appear in
// the answer, in order ("..." stands for lines left out). So the examples cannot go stale.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/command-kit/dispatch.ts';
import { prepareDemoStore, type DemoStore } from '../../src/demo/index.ts';
import { renderTerminal } from '../../src/render/terminal.ts';
import { testContext } from '../commands/context.ts';

/** The README says "as of 29 November 2026": the demo made at that morning. */
const README_NOW = new Date('2026-11-29T09:00:00Z');

interface Example {
  command: string;
  lines: string[];
}

function readmeExamples(): Example[] {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const examples: Example[] = [];
  for (const block of readme.matchAll(/```text\n([\s\S]*?)```/g)) {
    const [first, ...rest] = block[1]!.split('\n');
    const command = /^\$ npx dmarc-bot ask "([^"]+)"$/.exec(first ?? '')?.[1];
    if (command) examples.push({ command, lines: rest.map((line) => line.trimEnd()).filter((line) => line !== '') });
  }
  return examples;
}

let dir: string;
let demo: DemoStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmarc-readme-'));
  demo = await prepareDemoStore({ now: README_NOW, path: join(dir, 'demo.sqlite') });
}, 120_000);
afterAll(async () => {
  await demo.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the README's examples", () => {
  const examples = readmeExamples();

  it('are there: ready and ip, the commands the start banner suggests', () => {
    expect(examples.map((example) => example.command)).toEqual(expect.arrayContaining(['ready', 'ip 203.0.113.77']));
  });

  for (const example of examples) {
    it(`"${example.command}" answers with every line the README shows, in order`, async () => {
      const reply = await answer(example.command, testContext(demo.store, { now: README_NOW }));
      const output = renderTerminal(reply)
        .split('\n')
        .map((line) => line.trimEnd());
      let at = 0;
      for (const line of example.lines) {
        if (line.trim() === '...') continue;
        const found = output.indexOf(line, at);
        expect(
          found,
          `README line not in the answer (after line ${at}):\n${line}\n\nanswer:\n${output.join('\n')}`,
        ).toBeGreaterThanOrEqual(0);
        at = found + 1;
      }
    });
  }
});
