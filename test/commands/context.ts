// A CommandContext for tests: defaults from the real config schema, a fixed clock, offline DNS unless given.

import { loadConfig } from '../../src/config.ts';
import { createCommandContext } from '../../src/context.ts';
import type { CommandContext } from '../../src/command-kit/types.ts';
import type { DnsAdapter } from '../../src/net/dns.ts';
import type { ReportStore } from '../../src/store/types.ts';

export function testContext(
  store: ReportStore,
  options: {
    now: Date;
    locale?: 'en' | 'ja';
    timeZone?: string;
    dns?: DnsAdapter | false;
    env?: Record<string, string>;
  },
): CommandContext {
  const config = loadConfig({ LOCALE: options.locale ?? 'en', TZ: options.timeZone ?? 'UTC', ...options.env });
  return createCommandContext({
    config,
    store,
    requester: { platform: 'terminal', userId: 'tester', userName: 'alice' },
    now: () => options.now,
    dns: options.dns ?? false,
  });
}
