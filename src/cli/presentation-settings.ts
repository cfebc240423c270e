// LOCALE and TZ from the environment and `.env`, for the commands that read nothing else: loading
// the full settings (settings.ts) would load the schema library, most of `ask help`'s start-up.

import dotenv from 'dotenv';
import { loadPresentationSettings, type PresentationSettings } from '../config-presentation.ts';

export function loadPresentation(): PresentationSettings {
  dotenv.config({ quiet: true });
  return loadPresentationSettings();
}
