// Every refusal of the reader is one of these: a code for programs, a message for people that names
// the cause and the input (file, and inside a mail or zip the part or entry).

export type ReadErrorCode =
  | 'empty'
  | 'not-a-report'
  | 'too-large'
  | 'bad-gzip'
  | 'bad-zip'
  | 'too-many-entries'
  | 'too-deep'
  | 'bad-xml'
  | 'xml-entities'
  | 'bad-json'
  | 'bad-mail'
  // bounds: the input is refused before it can cost more than its share
  | 'deadline'
  | 'memory-limit'
  | 'too-many-parts'
  | 'header-too-large'
  // values outside what a report can hold
  | 'bad-date'
  | 'bad-count'
  | 'field-too-long';

export class ReportReadError extends Error {
  override name = 'ReportReadError';
  readonly code: ReadErrorCode;
  /** the input, and inside a container the part: `file.eml > report.zip > report.xml` */
  readonly source: string;

  constructor(code: ReadErrorCode, source: string, cause: string, options?: { cause?: unknown }) {
    super(`${source}: ${cause}`, options);
    this.code = code;
    this.source = source;
  }
}

/** Names a part inside a container, for error messages and sources. */
export function partSource(parent: string, part: string): string {
  return `${parent} > ${part}`;
}
