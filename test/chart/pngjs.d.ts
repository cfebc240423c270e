// The part of pngjs the chart tests use (the package ships no types).
declare module 'pngjs' {
  export interface DecodedPng {
    width: number;
    height: number;
    /** RGBA, 4 bytes a pixel, rows top to bottom */
    data: Buffer;
  }
  export const PNG: { sync: { read(buffer: Buffer): DecodedPng } };
}
