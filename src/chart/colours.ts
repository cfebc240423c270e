// Fixed colours, so a reader learns them once and tests can find each class in the pixels.
// Classes use the Okabe-Ito palette (told apart with the common colour-vision deficiencies); every
// colour here is distinct, fully opaque, and none is used for two things.

import type { ChartClass } from './series.ts';

export const CLASS_COLOURS: Record<ChartClass, string> = {
  aligned: '#009E73', // bluish green: passes and aligned
  forwarded: '#56B4E9', // sky blue: broken by a forwarder, nothing to fix
  'mailing-list': '#0072B2', // blue: rewritten by a list
  'legitimate-failing': '#E69F00', // orange: yours, needs fixing
  unconfirmed: '#CC79A7', // reddish purple: not decided yet (not grey: text edges are grey)
  spoofing: '#D55E00', // vermillion: not yours
};

export const CHART_COLOURS = {
  background: '#FFFFFF',
  text: '#1F1F1F',
  grid: '#E6E6E6',
  passRate: '#1A1A1A',
  quarantine: '#8C6D1F',
  reject: '#7A1F5C',
  policyChange: '#3D3D99',
  newSender: '#6E3D1F',
} as const;

/** '#RRGGBB' as [r, g, b]. */
export function rgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}
