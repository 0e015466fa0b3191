/**
 * The STDP window of a post-pre rule: the weight change of one pre/post spike pair against
 * Δt = t_post − t_pre. Pre before post (Δt > 0) potentiates by nuPost·exp(−Δt/τ_pre) (the
 * presynaptic trace read at the postsynaptic spike); post before pre (Δt < 0) depresses by
 * nuPre·exp(Δt/τ_post) (the postsynaptic trace read at the presynaptic spike).
 */
import type { Definition } from '../api.js';
import { LineChart } from '../charts.js';
import { h } from '../util.js';

export interface StdpParams {
  nuPre: number;
  nuPost: number;
  tauPreMs: number;
  tauPostMs: number;
}

export function stdpParams(def: Definition): StdpParams | null {
  const conn = def.connections.find((c) => c.type === 'dense' && c.plasticity);
  if (!conn || !conn.plasticity) return null;
  const pre = def.layers.find((l) => l.id === conn.from);
  const post = def.layers.find((l) => l.id === conn.to);
  return {
    nuPre: conn.plasticity.nuPre,
    nuPost: conn.plasticity.nuPost,
    tauPreMs: pre?.traceTauMs ?? 20,
    tauPostMs: post?.traceTauMs ?? 20,
  };
}

export function stdpCurve(p: StdpParams, halfWidthMs = 5 * Math.max(p.tauPreMs, p.tauPostMs), points = 401) {
  const xs: number[] = [];
  const pot: (number | null)[] = [];
  const dep: (number | null)[] = [];
  for (let k = 0; k < points; k++) {
    const dt = -halfWidthMs + (2 * halfWidthMs * k) / (points - 1);
    xs.push(dt);
    pot.push(dt >= 0 ? p.nuPost * Math.exp(-dt / p.tauPreMs) : null);
    dep.push(dt <= 0 ? -p.nuPre * Math.exp(dt / p.tauPostMs) : null);
  }
  return { xs, pot, dep };
}

const sci = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? String(+v.toPrecision(3)) : v.toExponential(1));

/** A chart of the window plus a caption with the parameters (asinh y-scale: nuPre ≪ nuPost stays visible). */
export class StdpWindow {
  readonly el: HTMLElement;
  private readonly chart: LineChart;
  private readonly caption: HTMLElement;

  constructor() {
    const box = h('div', { class: 'chart' });
    this.caption = h('p', { class: 'muted small' });
    this.el = h('div', {}, box, this.caption);
    this.chart = new LineChart(box, {
      title: 'STDP window',
      xLabel: 't_post − t_pre (ms)',
      yLabel: 'Δw (asinh scale)',
      yAsinh: 1e-5,
      height: 220,
      yValues: sci,
      series: [
        { label: 'potentiation (pre → post)', stroke: '#c2410c', width: 2 },
        { label: 'depression (post → pre)', stroke: '#1d4ed8', width: 2 },
      ],
    });
  }

  update(p: StdpParams | null): void {
    if (!p) {
      this.chart.setData([[], [], []]);
      this.caption.textContent = 'This experiment has no plastic connection.';
      return;
    }
    const c = stdpCurve(p);
    this.chart.setData([c.xs, c.pot, c.dep]);
    this.caption.textContent =
      `Δw = +${sci(p.nuPost)}·exp(−Δt/${p.tauPreMs} ms) for Δt > 0; ` +
      `−${sci(p.nuPre)}·exp(Δt/${p.tauPostMs} ms) for Δt < 0 (τ = the input and excitatory trace time constants).`;
  }

  destroy(): void {
    this.chart.destroy();
  }
}
