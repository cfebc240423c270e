// Whether to run on the demo data: cheap to import, so that `ask` and `start` can ask it before
// loading the demo's generator.

/** Settings whose presence means the user has configured a real deployment. */
const REAL_SETTINGS = [
  'DMARC_STORE',
  'IMAP_HOST',
  'IMAP_ACCOUNTS',
  'SLACK_BOT_TOKEN',
  'DISCORD_TOKEN',
  'DISCORD_WEBHOOK_URL',
] as const;

export const DEMO_STORE_PATH = './data/demo.sqlite';
export const DEMO_DOMAIN = 'example.com';

/** True when nothing that points at a real store, mailbox or chat is set (or DMARC_DEMO=1 asks for it). */
export function wantsDemo(env: NodeJS.ProcessEnv): boolean {
  if (env.DMARC_DEMO === '1' || env.DMARC_DEMO === 'true') return true;
  if (env.DMARC_DEMO === '0' || env.DMARC_DEMO === 'false') return false;
  return REAL_SETTINGS.every((name) => !env[name]?.trim());
}
