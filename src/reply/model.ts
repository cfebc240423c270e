// The neutral reply model: every command and the digest answer with this; the terminal, Slack
// (Block Kit) and Discord (embeds) renderers turn it into their own format and enforce their limits.

export type ReplyTone = 'info' | 'good' | 'warning' | 'bad';

export type ReplyBlock =
  /** a section heading */
  | { type: 'header'; text: string }
  /** a paragraph of plain text (no markup; renderers escape it) */
  | { type: 'text'; text: string; tone?: ReplyTone }
  /** label/value pairs shown side by side where the platform can */
  | { type: 'fields'; fields: Array<{ label: string; value: string }> }
  /** a bullet list; renderers cut long lists and say "and N more" */
  | { type: 'list'; title?: string; items: string[]; tone?: ReplyTone }
  /** a small table (per-day lines, top sources); renderers may turn it into lines */
  | { type: 'table'; title?: string; columns: string[]; rows: string[][] }
  /** small print: footnotes, time zone, window */
  | { type: 'context'; text: string }
  | { type: 'divider' };

/** A picture that goes with a reply (a trend chart). Platforms that cannot show it show `text`. */
export interface ReplyImage {
  /** file name, e.g. chart.png (Discord's attachment://NAME refers to it) */
  name: string;
  png: Buffer;
  /** what the picture shows, for screen readers and notifications */
  alt: string;
  /** the same in lines of text (sparklines) for the terminal */
  text?: string[];
}

export interface Reply {
  /** one line that stands for the whole reply (notification text, plain fallback) */
  title: string;
  tone: ReplyTone;
  blocks: ReplyBlock[];
  /** the machine-readable answer (`dmarc-bot ask --json` prints it) */
  data?: unknown;
  /** true when the reply reports a usage error or a failure to answer */
  error?: boolean;
  image?: ReplyImage;
  /** sources the reader can decide about right here: chat platforms show Mine / Spoof / Details buttons */
  choices?: ReplyChoice[];
}

/** A source (IP or sender name) offered for a decision. */
export interface ReplyChoice {
  subject: string;
}
