// The settings every subcommand starts from: `.env` read into the environment (never over a
// variable that is already set), then validated. A bad setting throws a ConfigError.

import dotenv from 'dotenv';
import { loadConfig, type Config } from '../config.ts';

export function loadSettings(): Config {
  dotenv.config({ quiet: true });
  return loadConfig();
}
