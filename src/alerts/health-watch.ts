// The thin part of the health alerts: reads the day history, runs the pure detectors and posts
// each episode once. The ledger (one state document) holds the open episodes; an episode whose
// condition no longer holds is closed, so the next time it happens it alerts again.

import type { ReportStore } from '../store/types.ts';
import type { Logger } from '../log.ts';
import type { AlertPacer } from './pacer.ts';
import { detectHealth, DEFAULT_HEALTH_RULES, type HealthFinding, type HealthRules } from './health.ts';
import { healthReply } from './health-render.ts';
import { addDays, utcDay } from '../insight/stats.ts';

export const HEALTH_LEDGER_KEY = 'health-episodes';

interface Episode {
  kind: HealthFinding['kind'];
  openedAt: string;
}
type Ledger = Record<string, Episode>;

export interface HealthWatchOptions {
  store: Pick<ReportStore, 'domains' | 'days' | 'marks' | 'getState' | 'setState'>;
  pacer: AlertPacer;
  rules?: Partial<HealthRules>;
  now?: () => Date;
  /** least time between two checks when no digest went out in between */
  everyMs?: number;
  mayPost?: () => boolean | Promise<boolean>;
  log?: Logger;
}

export interface HealthWatch {
  /** one check now; resolves the findings posted (new episodes) */
  check(): Promise<HealthFinding[]>;
  /** for the scheduler: checks after a digest went out, or when `everyMs` passed since the last check */
  afterPass(outcomes: ReadonlyArray<{ status: string }>): Promise<void>;
}

export const episodeKey = (finding: HealthFinding) => `${finding.kind}:${finding.subject}`;

export function createHealthWatch(options: HealthWatchOptions): HealthWatch {
  const now = options.now ?? (() => new Date());
  const everyMs = options.everyMs ?? 3600_000;
  const rules = { ...DEFAULT_HEALTH_RULES, ...options.rules };
  let lastCheck = -Infinity;

  async function check(): Promise<HealthFinding[]> {
    if (options.mayPost && !(await options.mayPost())) return [];
    const at = now();
    lastCheck = at.getTime();
    const today = utcDay(at);
    const lookBack = Math.max(rules.regularWindowDays, rules.baselineDays + 1, rules.noReportsDays + 1) + 14;
    const [domains, days, marks] = await Promise.all([
      options.store.domains(),
      options.store.days(null, addDays(today, -lookBack), today),
      options.store.marks(),
    ]);
    const findings = detectHealth({ domains, days, marks, today, rules });
    const ledger = (await options.store.getState<Ledger>(HEALTH_LEDGER_KEY)) ?? Object.create(null);
    const open = new Set(findings.map(episodeKey));
    let changed = false;
    for (const key of Object.keys(ledger)) {
      if (open.has(key)) continue;
      delete ledger[key];
      changed = true;
      options.log?.info({ episode: key }, 'health episode over');
    }
    const posted: HealthFinding[] = [];
    for (const finding of findings) {
      const key = episodeKey(finding);
      if (Object.hasOwn(ledger, key)) continue;
      const outcomes = await options.pacer.send(healthReply(finding));
      const taken = [...outcomes.values()].some((outcome) => outcome !== 'failed');
      if (!taken && options.pacer.destinations.length > 0) continue;
      ledger[key] = { kind: finding.kind, openedAt: at.toISOString() };
      changed = true;
      posted.push(finding);
      options.log?.info({ episode: key, outcomes: Object.fromEntries(outcomes) }, 'health alert sent');
    }
    if (changed) await options.store.setState(HEALTH_LEDGER_KEY, { ...ledger });
    await options.pacer.summarizeHeld();
    return posted;
  }

  return {
    check,
    async afterPass(outcomes) {
      const digestSent = outcomes.some((outcome) => outcome.status === 'sent');
      if (!digestSent && now().getTime() - lastCheck < everyMs) return;
      try {
        await check();
      } catch (error) {
        options.log?.error({ err: error instanceof Error ? error.message : String(error) }, 'health check failed');
      }
    },
  };
}
