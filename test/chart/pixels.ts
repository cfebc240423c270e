// Reading rendered charts back: decode the PNG and count pixels of exact colours.

import { PNG, type DecodedPng } from 'pngjs';
import { rgb } from '../../src/chart/colours.ts';

export function decode(png: Buffer): DecodedPng {
  return PNG.sync.read(png);
}

export interface Band {
  top: number;
  bottom: number;
  left?: number;
  right?: number;
}

/** How many pixels of the band have exactly this colour (opaque). */
export function countColour(image: DecodedPng, hex: string, band: Band = { top: 0, bottom: image.height }): number {
  const [r, g, b] = rgb(hex);
  let found = 0;
  const left = band.left ?? 0;
  const right = band.right ?? image.width;
  for (let y = band.top; y < band.bottom; y++) {
    for (let x = left; x < right; x++) {
      const at = (y * image.width + x) * 4;
      if (image.data[at] === r && image.data[at + 1] === g && image.data[at + 2] === b && image.data[at + 3] === 255)
        found++;
    }
  }
  return found;
}

/** Rows where at least `minRun` pixels of the colour lie (a horizontal line, dashed or not). */
export function rowsWith(image: DecodedPng, hex: string, minCount: number): number[] {
  const rows: number[] = [];
  for (let y = 0; y < image.height; y++) {
    if (countColour(image, hex, { top: y, bottom: y + 1 }) >= minCount) rows.push(y);
  }
  return rows;
}

/** Columns where at least `minCount` pixels of the colour lie (a vertical line). */
export function columnsWith(image: DecodedPng, hex: string, minCount: number, band: Band): number[] {
  const columns: number[] = [];
  for (let x = 0; x < image.width; x++) {
    if (countColour(image, hex, { ...band, left: x, right: x + 1 }) >= minCount) columns.push(x);
  }
  return columns;
}

/** Pixels of the band that are not the white background. */
export function inkIn(image: DecodedPng, band: Band): number {
  let ink = 0;
  for (let y = band.top; y < band.bottom; y++) {
    for (let x = band.left ?? 0; x < (band.right ?? image.width); x++) {
      const at = (y * image.width + x) * 4;
      if (image.data[at]! < 250 || image.data[at + 1]! < 250 || image.data[at + 2]! < 250) ink++;
    }
  }
  return ink;
}

/** The RGBA bytes of a band, to compare two renderings. */
export function bandBytes(image: DecodedPng, band: Band): Buffer {
  return image.data.subarray(band.top * image.width * 4, band.bottom * image.width * 4);
}
