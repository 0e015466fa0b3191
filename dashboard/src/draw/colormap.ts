/** 256-entry colour lookup tables packed as little-endian RGBA uint32 (for Uint32Array views of ImageData). */

export function packRGBA(r: number, g: number, b: number, a = 255): number {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

function lut(stops: [number, number, number, number][]): Uint32Array {
  const out = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 0;
    while (k < stops.length - 2 && t > stops[k + 1]![0]) k++;
    const [t0, r0, g0, b0] = stops[k]!;
    const [t1, r1, g1, b1] = stops[k + 1]!;
    const f = t1 > t0 ? Math.min(1, Math.max(0, (t - t0) / (t1 - t0))) : 0;
    out[i] = packRGBA(Math.round(r0 + (r1 - r0) * f), Math.round(g0 + (g1 - g0) * f), Math.round(b0 + (b1 - b0) * f));
  }
  return out;
}

/** Black → purple → orange → pale yellow (inferno-like): weak weights dark, strong bright. */
export const inferno = lut([
  [0, 0, 0, 4],
  [0.25, 66, 10, 104],
  [0.5, 147, 38, 103],
  [0.75, 221, 81, 58],
  [0.9, 252, 165, 10],
  [1, 252, 255, 164],
]);

/** White → blue, for confusion matrices and counts. */
export function blues(t: number): string {
  const x = Math.min(1, Math.max(0, t));
  const r = Math.round(247 - (247 - 8) * x);
  const g = Math.round(251 - (251 - 69) * x);
  const b = Math.round(255 - (255 - 148) * x);
  return `rgb(${r} ${g} ${b})`;
}
