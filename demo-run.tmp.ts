import { prepareDemoStore } from '/work/wt/h7-trust/src/demo/index.ts';
import { answer } from '/work/wt/h7-trust/src/commands/dispatch.ts';
import { renderTerminal } from '/work/wt/h7-trust/src/render/terminal.ts';
import { testContext } from '/work/wt/h7-trust/test/commands/context.ts';
import { buildDigest } from '/work/wt/h7-trust/src/digest/build.ts';
const now = new Date('2026-11-29T09:00:00Z');
const demo = await prepareDemoStore({ now, path: '/tmp/h7-demo.sqlite' });
const ctx = testContext(demo.store, { now });
for (const line of process.argv.slice(2)) {
  if (line === 'DIGEST') { const d = await buildDigest(demo.store, ctx, { since: new Date(0), until: now }); console.log(renderTerminal(d.reply)); continue; }
  console.log('$ ' + line); console.log(renderTerminal(await answer(line, ctx)));
}
await demo.store.close();
