// How many reader worker threads a machine gets: the main thread (storing) and V8's own threads
// keep a core busy, so a worker is given only to the cores beyond the first, and never more than two.
import { describe, expect, it } from 'vitest';
import { readerThreadsFor } from '../../src/reader/bounded.ts';

describe('readerThreadsFor', () => {
  it('gives one worker to one and to two cores', () => {
    expect(readerThreadsFor(1)).toBe(1);
    expect(readerThreadsFor(2)).toBe(1);
  });

  it('gives two workers from three cores on, and no more', () => {
    expect(readerThreadsFor(3)).toBe(2);
    expect(readerThreadsFor(4)).toBe(2);
    expect(readerThreadsFor(64)).toBe(2);
  });

  it('gives at least one worker whatever the count says', () => {
    expect(readerThreadsFor(0)).toBe(1);
  });
});
