// One command-line convention for every subcommand: options parsed by node:util parseArgs,
// `--help`/`-h` prints the subcommand's usage, and the exit status says what happened.

export const EXIT_OK = 0;
/** the command ran and something failed: an input without a report, a bad setting, a server away */
export const EXIT_FAILURE = 1;
/** the command line itself is wrong: unknown option, missing argument */
export const EXIT_USAGE = 2;

/** Writes a one-line usage error naming the subcommand and where its usage is, and returns 2. */
export function usageError(command: string, message: string): number {
  process.stderr.write(`dmarc-bot ${command}: ${message} (see dmarc-bot ${command} --help)\n`);
  return EXIT_USAGE;
}

function isParseArgsError(error: unknown): error is Error & { code: string } {
  return error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}

/**
 * Runs `parse` (a parseArgs call whose options include `help`), and returns its result, or the
 * exit status when there is nothing more to do: 0 after printing the usage, 2 for a usage error.
 */
export function parseCommandArgs<Parsed extends { values: { help?: boolean | undefined } }>(
  command: string,
  usage: string,
  parse: () => Parsed,
): Parsed | number {
  let parsed: Parsed;
  try {
    parsed = parse();
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    // parseArgs explains at length how to pass a dash-led positional; the first sentence is the error
    const first = error.message.split(/\.\s/)[0]!.replace(/\.$/, '');
    return usageError(command, first.charAt(0).toLowerCase() + first.slice(1));
  }
  if (parsed.values.help) {
    process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
    return EXIT_OK;
  }
  return parsed;
}

/** `help: { type: 'boolean', short: 'h' }`, the option every subcommand has */
export const helpOption = { help: { type: 'boolean', short: 'h' } } as const;
