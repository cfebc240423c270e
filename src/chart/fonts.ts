// The chart's font comes with the package (Noto Sans JP, OFL-1.1: Latin and Japanese glyphs), so
// labels look the same on a minimal host without fonts as on a desktop.

import { createRequire } from 'node:module';
import { GlobalFonts } from '@napi-rs/canvas';

export const CHART_FONT_FAMILY = 'dmarc-bot Noto Sans JP';
const FONT_FILE = '@expo-google-fonts/noto-sans-jp/400Regular/NotoSansJP_400Regular.ttf';

let registered: string | null = null;

/** Registers the bundled font once; returns the file used. Throws when it cannot be loaded. */
export function registerChartFont(): string {
  if (registered) return registered;
  const path = createRequire(import.meta.url).resolve(FONT_FILE);
  if (!GlobalFonts.registerFromPath(path, CHART_FONT_FAMILY))
    throw new Error(`chart font could not be loaded: ${path}`);
  registered = path;
  return path;
}
