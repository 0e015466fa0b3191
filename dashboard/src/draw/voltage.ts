/**
 * Membrane voltage of one recorded excitatory neuron over a sample, with its effective
 * (adaptive) threshold, its own spikes, and the input spikes per step that drive it.
 */
import { LineChart } from '../charts.js';
import type { SpikesFrame, VoltageFrame } from '../stream.js';

export class VoltagePlot {
  private readonly chart: LineChart;
  private xs: number[] = [];
  private v: number[] = [];
  private th: number[] = [];
  private sp: (number | null)[] = [];
  private inp: number[] = [];

  constructor(container: HTMLElement) {
    this.chart = new LineChart(container, {
      title: 'Membrane voltage',
      xLabel: 'time in sample (ms)',
      yLabel: 'mV',
      y2Label: 'input spikes / step',
      height: 230,
      series: [
        { label: 'voltage', stroke: '#1d4ed8', width: 1.5 },
        { label: 'threshold (θ-adapted)', stroke: '#dc2626', dash: [6, 4], width: 1.5 },
        { label: 'spikes', stroke: '#111827', points: true, paths: 'none' },
        { label: 'input spikes', stroke: 'rgba(120,120,120,0.4)', scale: 'y2', paths: 'steps', width: 1 },
      ],
    });
  }

  /** Draws neuron `column` of the voltage frame; `exc`/`input` rasters are used only if they are of the same sample. */
  draw(f: VoltageFrame, column: number, dtMs: number, exc: SpikesFrame | null, input: SpikesFrame | null): void {
    const steps = f.rows;
    const n = f.cols;
    if (column < 0 || column >= n) return;
    if (this.xs.length !== steps) {
      this.xs = Array.from({ length: steps }, (_, k) => k * dtMs);
      this.v = new Array<number>(steps);
      this.th = new Array<number>(steps);
      this.sp = new Array<number | null>(steps);
      this.inp = new Array<number>(steps);
    }
    for (let s = 0; s < steps; s++) {
      this.v[s] = f.voltage[s * n + column]!;
      this.th[s] = f.threshold[s * n + column]!;
      this.sp[s] = null;
      this.inp[s] = 0;
    }
    const neuron = f.neurons[column]!;
    if (exc && exc.sampleIndex === f.sampleIndex && exc.phase === f.phase) {
      const p = exc.pairs;
      for (let k = 0; k + 1 < p.length; k += 2) {
        if (p[k + 1] === neuron && p[k]! < steps) this.sp[p[k]!] = this.th[p[k]!]!;
      }
    }
    if (input && input.sampleIndex === f.sampleIndex && input.phase === f.phase) {
      const p = input.pairs;
      for (let k = 0; k < p.length; k += 2) if (p[k]! < steps) this.inp[p[k]!]!++;
    }
    this.chart.setData([this.xs, this.v, this.th, this.sp, this.inp]);
  }

  destroy(): void {
    this.chart.destroy();
  }
}
