// Loaded into a CLI child with NODE_OPTIONS=--import: at exit it prints, as one JSON line on stderr,
// what was added to Object.prototype while the program ran (stored data must never add anything).
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const before = new Set(Object.getOwnPropertyNames(Object.prototype));
  process.on('exit', () => {
    const added = Object.getOwnPropertyNames(Object.prototype).filter((name) => !before.has(name));
    const enumerable = [];
    for (const key in {}) enumerable.push(key);
    process.stderr.write(`${JSON.stringify({ probe: 'prototype', added, enumerable })}\n`);
  });
}
