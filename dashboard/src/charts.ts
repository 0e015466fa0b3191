/** uPlot line charts sized to their container. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { observeWidth } from './util.js';

export interface LineChartOptions {
  title: string;
  xLabel: string;
  series: { label: string; stroke: string; scale?: string; dash?: number[]; points?: boolean; width?: number; paths?: 'line' | 'none' | 'steps' }[];
  yLabel?: string;
  y2Label?: string;
  height?: number;
  yRange?: [number, number];
  yAsinh?: number;
  xValues?: (v: number) => string;
  yValues?: (v: number) => string;
  y2Values?: (v: number) => string;
}

export class LineChart {
  readonly plot: uPlot;
  private readonly stopObserving: () => void;

  constructor(container: HTMLElement, opts: LineChartOptions) {
    const hasY2 = opts.series.some((s) => s.scale === 'y2');
    const fmt = (f?: (v: number) => string) => (f ? (_u: uPlot, vals: number[]) => vals.map((v) => (v === null ? '' : f(v))) : undefined);
    const scales: uPlot.Scales = { x: { time: false } };
    scales.y = opts.yRange ? { range: opts.yRange } : opts.yAsinh ? { distr: 4, asinh: opts.yAsinh } : {};
    if (hasY2) scales.y2 = {};
    const axes: uPlot.Axis[] = [
      { label: opts.xLabel, values: fmt(opts.xValues), size: 40, labelSize: 18 },
      { label: opts.yLabel, values: fmt(opts.yValues), size: 56, labelSize: 18 },
    ];
    if (hasY2) axes.push({ scale: 'y2', side: 1, label: opts.y2Label, values: fmt(opts.y2Values), grid: { show: false }, size: 56, labelSize: 18 });
    const width = Math.max(200, Math.floor(container.getBoundingClientRect().width) || 400);
    this.plot = new uPlot(
      {
        title: opts.title,
        width,
        height: opts.height ?? 220,
        scales,
        axes,
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
        series: [
          { label: opts.xLabel },
          ...opts.series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: s.width ?? 1.5,
            scale: s.scale ?? 'y',
            dash: s.dash,
            points: s.points ? { show: true, size: 6, fill: s.stroke } : { show: false },
            paths: s.paths === 'none' ? () => null : s.paths === 'steps' ? uPlot.paths.stepped!({ align: 1 }) : undefined,
            spanGaps: false,
          })),
        ],
      },
      [[], ...opts.series.map(() => [])],
      container,
    );
    this.stopObserving = observeWidth(container, (w) => this.plot.setSize({ width: Math.max(200, w), height: opts.height ?? 220 }));
  }

  setData(data: (number | null)[][], resetScales = true): void {
    this.plot.setData(data as uPlot.AlignedData, resetScales);
  }

  destroy(): void {
    this.stopObserving();
    this.plot.destroy();
  }
}
