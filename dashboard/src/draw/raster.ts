/**
 * Spike raster of one sample: x = time step, y = neuron. Drawn at native resolution (one pixel
 * per step; neurons binned to at most MAX_ROWS rows) into a reused ImageData, scaled by CSS.
 */
import { packRGBA } from './colormap.js';

const MAX_ROWS = 240;
const BG = packRGBA(250, 250, 252);
const GRID = packRGBA(232, 234, 240);

export class Raster {
  private readonly ctx: CanvasRenderingContext2D;
  private image: ImageData | null = null;
  private pixels: Uint32Array | null = null;
  private readonly color: number;
  private readonly highlight = packRGBA(245, 130, 0);

  constructor(
    readonly canvas: HTMLCanvasElement,
    color: [number, number, number],
  ) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('2D canvas unavailable');
    this.ctx = ctx;
    this.color = packRGBA(...color);
  }

  /** `pairs`: (step, neuron) pairs. `mark`: a neuron whose row is highlighted (or -1). */
  draw(pairs: Uint32Array, steps: number, neurons: number, mark = -1): void {
    // Two pixels per step; small layers get several pixels per neuron so single spikes show,
    // large ones are binned to MAX_ROWS rows.
    const cw = 2;
    const ch = neurons >= MAX_ROWS ? 1 : Math.min(6, Math.max(1, Math.floor(MAX_ROWS / Math.max(1, neurons))));
    const w = Math.max(1, steps) * cw;
    const rows = Math.max(1, neurons >= MAX_ROWS ? MAX_ROWS : neurons * ch);
    if (!this.image || this.canvas.width !== w || this.canvas.height !== rows) {
      this.canvas.width = w;
      this.canvas.height = rows;
      this.image = this.ctx.createImageData(w, rows);
      this.pixels = new Uint32Array(this.image.data.buffer);
    }
    const px = this.pixels!;
    px.fill(BG);
    // Faint vertical lines every 50 steps as a time scale.
    for (let x = 50 * cw; x < w; x += 50 * cw) for (let y = 0; y < rows; y++) px[y * w + x] = GRID;
    const scale = neurons >= MAX_ROWS ? MAX_ROWS / neurons : ch;
    const markRow = mark >= 0 ? Math.floor(mark * scale) : -1;
    const maxStep = w / cw;
    for (let k = 0; k + 1 < pairs.length; k += 2) {
      const step = pairs[k]!;
      const y0 = Math.floor(pairs[k + 1]! * scale);
      if (step >= maxStep || y0 >= rows) continue;
      const color = y0 === markRow ? this.highlight : this.color;
      const h = neurons >= MAX_ROWS ? 1 : Math.max(1, ch - (ch > 2 ? 1 : 0));
      for (let dy = 0; dy < h && y0 + dy < rows; dy++) {
        const base = (y0 + dy) * w + step * cw;
        for (let dx = 0; dx < cw; dx++) px[base + dx] = color;
      }
    }
    this.ctx.putImageData(this.image!, 0, 0);
  }

  clear(): void {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }
}
