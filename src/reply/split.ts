// Splitting a long reply over several messages instead of cutting it: the reply is cut at its
// headers (a digest has one per domain) and the parts are packed, in order, into as few replies
// as the platform's renderer can hold without shortening. A part too big on its own still goes
// alone (and is shortened there by the renderer).

import type { Reply, ReplyBlock } from './model.ts';

function parts(blocks: readonly ReplyBlock[]): ReplyBlock[][] {
  const out: ReplyBlock[][] = [[]];
  for (const block of blocks) {
    if (block.type === 'header' && out[out.length - 1]!.length > 0) out.push([]);
    out[out.length - 1]!.push(block);
  }
  return out.filter((part) => part.length > 0);
}

/** `fits`: whether the platform renders the reply whole. Buttons and the picture stay with the first message. */
export function splitReply(reply: Reply, fits: (reply: Reply) => boolean, maxMessages = 10): Reply[] {
  if (fits(reply)) return [reply];
  const pieces = parts(reply.blocks);
  const groups: ReplyBlock[][] = [];
  let current: ReplyBlock[] = [];
  const make = (blocks: ReplyBlock[], index: number): Reply => ({
    ...reply,
    title: index === 0 ? reply.title : `${reply.title} (${index + 1})`,
    blocks,
    ...(index === 0 ? {} : { choices: [], data: undefined, image: undefined }),
  });
  for (const piece of pieces) {
    const candidate = [...current, ...piece];
    if (current.length === 0 || fits(make(candidate, groups.length))) current = candidate;
    else {
      groups.push(current);
      current = piece;
    }
  }
  if (current.length > 0) groups.push(current);
  if (groups.length > maxMessages) {
    // beyond the last message the rest is cut by the renderer, which says so
    const kept = groups.slice(0, maxMessages - 1);
    kept.push(groups.slice(maxMessages - 1).flat());
    return kept.map(make);
  }
  return groups.map(make);
}
