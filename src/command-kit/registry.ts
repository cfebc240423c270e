// The /dmarc subcommands, listed explicitly (no folder scanning): the text parser, Discord
// registration and `help` all read this list.

import { dateCommand } from '../../commands/date.ts';
import { dnsCommand } from '../../commands/dns.ts';
import { failuresCommand } from '../../commands/failures.ts';
import { helpCommand } from '../../commands/help.ts';
import { ipCommand } from '../../commands/ip.ts';
import { markCommand } from '../../commands/mark.ts';
import { marksCommand } from '../../commands/marks.ts';
import { readyCommand } from '../../commands/ready.ts';
import { sourcesCommand } from '../../commands/sources.ts';
import { summaryCommand } from '../../commands/summary.ts';
import { tlsCommand } from '../../commands/tls.ts';
import type { CommandDef } from './types.ts';

export const commandRegistry: readonly CommandDef[] = [
  ipCommand,
  dateCommand,
  readyCommand,
  markCommand,
  marksCommand,
  summaryCommand,
  sourcesCommand,
  dnsCommand,
  failuresCommand,
  tlsCommand,
  helpCommand,
];
