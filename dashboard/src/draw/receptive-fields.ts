/**
 * The receptive-field grid: each excitatory neuron's input weights as an H×W tile (28×28 for
 * MNIST; channels such as ON/OFF events side by side), min-max normalised per neuron (the classic
 * Diehl & Cook picture). Drawn at native resolution (one
 * pixel per weight) into one reused ImageData and scaled by CSS, so a 1,600-neuron snapshot is a
 * single pass over the weights and one putImageData.
 */
import { inferno, packRGBA } from './colormap.js';

const GAP = packRGBA(40, 44, 52);

export class ReceptiveFieldGrid {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private image: ImageData | null = null;
  private pixels: Uint32Array | null = null;
  private min = new Float32Array(0);
  private span = new Float32Array(0);
  private tileOffset = new Uint32Array(0);
  private neurons = 0;
  /** One channel of a tile (setShape); channels = inputs / (height·width). */
  private fh = 28;
  private fw = 28;
  private channels = 1;
  private cellW = 29;
  private cellH = 29;
  cols = 0;
  rows = 0;
  /** Sample index of the snapshot on screen (-1: none yet). */
  sampleIndex = -1;
  draws = 0;
  /** Time the last draw took (ms), for checking that large networks stay smooth. */
  lastDrawMs = 0;

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
    const ctx = canvas.getContext('2d', { willReadFrequently: false });
    if (!ctx) throw new Error('2D canvas unavailable');
    this.ctx = ctx;
  }

  /** The input's height and width (default 28×28). */
  setShape(height: number, width: number): void {
    if (height === this.fh && width === this.fw) return;
    this.fh = height;
    this.fw = width;
    this.image = null;
  }

  private layout(neurons: number, channels: number): void {
    if (neurons === this.neurons && channels === this.channels && this.image) return;
    this.neurons = neurons;
    this.channels = channels;
    this.cellW = this.fw * channels + 1;
    this.cellH = this.fh + 1;
    const CELLW = this.cellW;
    const CELLH = this.cellH;
    this.cols = Math.max(1, Math.ceil(Math.sqrt(neurons)));
    this.rows = Math.max(1, Math.ceil(neurons / this.cols));
    const w = this.cols * CELLW + 1;
    const hgt = this.rows * CELLH + 1;
    this.canvas.width = w;
    this.canvas.height = hgt;
    this.image = this.ctx.createImageData(w, hgt);
    this.pixels = new Uint32Array(this.image.data.buffer);
    this.min = new Float32Array(neurons);
    this.span = new Float32Array(neurons);
    // Pixel index of each tile's top-left corner.
    this.tileOffset = new Uint32Array(neurons);
    for (let n = 0; n < neurons; n++) {
      this.tileOffset[n] = (Math.floor(n / this.cols) * CELLH + 1) * w + (n % this.cols) * CELLW + 1;
    }
  }

  /** Neuron under a point given in CSS pixels of the canvas box, or -1. */
  neuronAt(x: number, y: number): number {
    const rect = this.canvas.getBoundingClientRect();
    if (rect.width === 0 || this.neurons === 0) return -1;
    const px = (x / rect.width) * this.canvas.width;
    const py = (y / rect.height) * this.canvas.height;
    const c = Math.floor((px - 0.5) / this.cellW);
    const r = Math.floor((py - 0.5) / this.cellH);
    if (c < 0 || r < 0 || c >= this.cols || r >= this.rows) return -1;
    const n = r * this.cols + c;
    return n < this.neurons ? n : -1;
  }

  /**
   * `weights` is [inputs, neurons] row-major (row = input pixel). `labels` (assigned class per
   * neuron, or null) are drawn in each tile's corner.
   */
  draw(weights: Float32Array, inputs: number, neurons: number, sampleIndex: number, labels?: readonly number[] | null): void {
    const plane = this.fh * this.fw;
    if (inputs % plane !== 0 || neurons <= 0 || weights.length < inputs * neurons) return;
    const t0 = performance.now();
    this.layout(neurons, inputs / plane);
    const fw = this.fw;
    const px = this.pixels!;
    const min = this.min;
    const span = this.span;
    min.fill(Infinity);
    span.fill(-Infinity); // holds the max during the first pass
    for (let i = 0; i < inputs; i++) {
      const row = i * neurons;
      for (let n = 0; n < neurons; n++) {
        const w = weights[row + n]!;
        if (w < min[n]!) min[n] = w;
        if (w > span[n]!) span[n] = w;
      }
    }
    for (let n = 0; n < neurons; n++) {
      const s = span[n]! - min[n]!;
      span[n] = s > 1e-12 ? 255 / s : 0;
    }
    px.fill(GAP);
    const width = this.canvas.width;
    const tile = this.tileOffset;
    for (let i = 0; i < inputs; i++) {
      const row = i * neurons;
      const c = (i / plane) | 0;
      const r = i - c * plane;
      const dy = (r / fw) | 0;
      const offset = dy * width + (r - dy * fw) + c * fw;
      for (let n = 0; n < neurons; n++) {
        const v = ((weights[row + n]! - min[n]!) * span[n]!) | 0;
        px[tile[n]! + offset] = inferno[v < 0 ? 0 : v > 255 ? 255 : v]!;
      }
    }
    this.ctx.putImageData(this.image!, 0, 0);
    // Upscaled tiles stay crisp; a downscaled grid (large networks) is smoothed instead of aliased.
    const shown = this.canvas.clientWidth;
    const rendering = shown > 0 && shown < this.canvas.width ? 'auto' : 'pixelated';
    if (this.canvas.style.imageRendering !== rendering) this.canvas.style.imageRendering = rendering;
    if (labels && labels.length >= neurons && this.labelsFit()) this.drawLabels(labels, neurons);
    this.sampleIndex = sampleIndex;
    this.canvas.dataset.sampleIndex = String(sampleIndex);
    this.draws++;
    this.canvas.dataset.draws = String(this.draws);
    this.lastDrawMs = performance.now() - t0;
    this.canvas.dataset.drawMs = this.lastDrawMs.toFixed(1);
  }

  /** Labels are drawn into the tiles only while tiles are large enough on screen to read them. */
  labelsFit(): boolean {
    return this.cols <= 20;
  }

  private drawLabels(labels: readonly number[], neurons: number): void {
    const ctx = this.ctx;
    ctx.save();
    ctx.font = 'bold 9px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    for (let n = 0; n < neurons; n++) {
      const x = (n % this.cols) * this.cellW + 1;
      const y = Math.floor(n / this.cols) * this.cellH + 1;
      ctx.fillStyle = 'rgba(0,0,0,0.7)';
      ctx.fillRect(x, y, 8, 10);
      ctx.fillStyle = '#9fe870';
      ctx.fillText(String(labels[n]), x + 1.5, y + 1);
    }
    ctx.restore();
  }
}
