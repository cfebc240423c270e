// Helpers shared by the Slack and Discord renderers for staying inside platform limits: every cut
// is visible ("…", "and N more") so nobody mistakes a shortened answer for the whole one.

/** Cuts a string to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, Math.max(0, max));
  return text.slice(0, max - 1) + '…';
}

export function andMore(count: number): string {
  return `… and ${count} more`;
}

/**
 * Keeps as many whole lines as fit into `maxChars` (joined with newlines) and at most `maxLines`,
 * then appends "… and N more" for the rest (the note itself also fits into `maxChars`).
 */
export function fitLines(lines: readonly string[], maxChars: number, maxLines = Number.POSITIVE_INFINITY): string {
  const kept: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const rest = lines.length - i - 1;
    const cost = (kept.length > 0 ? 1 : 0) + line.length;
    // room needed for a trailing "and N more" note if later lines must be dropped
    const reserve = rest > 0 ? 1 + andMore(rest).length : 0;
    if (kept.length < maxLines && used + cost + reserve <= maxChars) {
      kept.push(line);
      used += cost;
      continue;
    }
    if (kept.length < maxLines && rest === 0 && used + cost <= maxChars) {
      kept.push(line);
      used += cost;
      continue;
    }
    const dropped = lines.length - i;
    const note = andMore(dropped);
    if (kept.length === 0) {
      // not even one line fits whole: show the first line cut, then the count of the others
      const others = dropped - 1;
      const tail = others > 0 ? '\n' + andMore(others) : '';
      // too little room for a line and the note: the note alone, cut if it must be
      if (maxChars - tail.length < 10) return truncate(andMore(dropped), maxChars);
      return truncate(line, maxChars - tail.length) + tail;
    }
    return [...kept, note].join('\n');
  }
  return kept.join('\n');
}

/** Lays out a small table as fixed-width text lines (header, rule, rows). */
export function tableLines(
  columns: readonly string[],
  rows: readonly (readonly string[])[],
  maxCellWidth = 40,
): string[] {
  const cell = (value: string | undefined) => truncate(value ?? '', maxCellWidth);
  const widths = columns.map((column, index) =>
    Math.max(cell(column).length, ...rows.map((row) => cell(row[index]).length)),
  );
  const line = (values: readonly (string | undefined)[]) =>
    widths
      .map((width, index) => cell(values[index]).padEnd(width))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)];
}
