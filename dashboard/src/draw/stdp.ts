/**
 * The STDP window of the experiment's learning rule: the weight change caused by one pre/post
 * spike pair against Δt = t_post − t_pre, from traces at rest (docs/models.md has each rule).
 * Pre before post (Δt ≥ 0) is read at the postsynaptic spike from the presynaptic trace
 * e^(−Δt/τpre); post before pre (Δt < 0) at the presynaptic spike from the postsynaptic trace
 * e^(Δt/τpost). Weight-dependent terms are drawn at the middle of [wMin, wMax].
 */
import type { Definition, Plasticity } from '../api.js';
import { LineChart } from '../charts.js';
import { h } from '../util.js';

export interface StdpWindowSpec {
  rule: Plasticity;
  /** Trace time constants the rule reads (ms). */
  tauPreMs: number;
  tauPostMs: number;
  wMin: number;
  wMax: number;
}

export function stdpParams(def: Definition): StdpWindowSpec | null {
  const conn = def.connections.find((c) => c.type === 'dense' && c.plasticity);
  if (!conn || !conn.plasticity) return null;
  const rule = conn.plasticity;
  const pre = def.layers.find((l) => l.id === conn.from);
  const post = def.layers.find((l) => l.id === conn.to);
  const base = { rule, wMin: conn.wMin ?? 0, wMax: conn.wMax ?? 1 };
  switch (rule.rule) {
    case 'stdp':
      return { ...base, tauPreMs: rule.tauPlusMs, tauPostMs: rule.tauMinusMs };
    case 'diehl-cook':
      return { ...base, tauPreMs: rule.tauPreMs, tauPostMs: rule.tauPost1Ms };
    case 'power-law':
      return { ...base, tauPreMs: rule.tauPreMs, tauPostMs: rule.tauPreMs };
    default:
      return { ...base, tauPreMs: pre?.traceTauMs ?? 20, tauPostMs: post?.traceTauMs ?? 20 };
  }
}

/** For the diehl-cook rule: the pair follows an earlier postsynaptic spike this long before. */
const DC_PREVIOUS_POST_MS = 20;

/** Δw of one pair at Δt (ms); null where the rule has no term on that side. */
export function pairChange(p: StdpWindowSpec, dt: number): { pot: number | null; dep: number | null } {
  const r = p.rule;
  const w = (p.wMin + p.wMax) / 2;
  const x = dt >= 0 ? Math.exp(-dt / p.tauPreMs) : 0;
  const y = dt <= 0 ? Math.exp(dt / p.tauPostMs) : 0;
  switch (r.rule) {
    case 'post-pre':
      return { pot: dt >= 0 ? r.nuPost * x : null, dep: dt <= 0 ? -r.nuPre * y : null };
    case 'weight-dependent-post-pre':
      return { pot: dt >= 0 ? r.nuPost * x * (p.wMax - w) : null, dep: dt <= 0 ? -r.nuPre * y * (w - p.wMin) : null };
    case 'stdp':
      return { pot: dt >= 0 ? r.aPlus * x : null, dep: dt <= 0 ? -r.aMinus * y : null };
    case 'diehl-cook': {
      // Potentiation needs y2 from an earlier postsynaptic spike (a triplet term).
      const y2 = Math.exp(-DC_PREVIOUS_POST_MS / r.tauPost2Ms);
      return { pot: dt >= 0 ? r.nuPost * x * y2 : null, dep: dt <= 0 ? -r.nuPre * y : null };
    }
    case 'power-law': {
      // Only postsynaptic spikes change w; a post spike with no recent input depresses.
      const term = r.nu * (Math.pow(p.wMax - w, r.mu));
      return { pot: dt >= 0 ? term * (x - r.xTarget) : null, dep: dt < 0 ? -term * r.xTarget : null };
    }
  }
}

export function stdpCurve(p: StdpWindowSpec, halfWidthMs = 5 * Math.max(p.tauPreMs, p.tauPostMs), points = 401) {
  const xs: number[] = [];
  const pot: (number | null)[] = [];
  const dep: (number | null)[] = [];
  for (let k = 0; k < points; k++) {
    const dt = -halfWidthMs + (2 * halfWidthMs * k) / (points - 1);
    xs.push(dt);
    const c = pairChange(p, dt);
    pot.push(c.pot);
    dep.push(c.dep);
  }
  return { xs, pot, dep };
}

const sci = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? String(+v.toPrecision(3)) : v.toExponential(1));

function caption(p: StdpWindowSpec): string {
  const r = p.rule;
  const mid = `w = ${sci((p.wMin + p.wMax) / 2)}`;
  switch (r.rule) {
    case 'post-pre':
      return `post-pre: Δw = +${sci(r.nuPost)}·exp(−Δt/${p.tauPreMs} ms) for Δt > 0; −${sci(r.nuPre)}·exp(Δt/${p.tauPostMs} ms) for Δt < 0 (τ = the input and excitatory trace time constants).`;
    case 'weight-dependent-post-pre':
      return `weight-dependent post-pre (soft bounds, drawn at ${mid}): Δw = +${sci(r.nuPost)}·exp(−Δt/${p.tauPreMs} ms)·(wMax − w); −${sci(r.nuPre)}·exp(Δt/${p.tauPostMs} ms)·(w − wMin).`;
    case 'stdp':
      return `classic STDP (${r.pairing}): Δw = +${sci(r.aPlus)}·exp(−Δt/${r.tauPlusMs} ms) for Δt > 0; −${sci(r.aMinus)}·exp(Δt/${r.tauMinusMs} ms) for Δt < 0.`;
    case 'diehl-cook':
      return `Diehl & Cook: depression −${sci(r.nuPre)}·y1 (τ ${r.tauPost1Ms} ms); potentiation +${sci(r.nuPost)}·x·y2 (τ ${r.tauPreMs} / ${r.tauPost2Ms} ms), drawn after an earlier post spike ${DC_PREVIOUS_POST_MS} ms before (without one, y2 = 0).`;
    case 'power-law':
      return `power law (drawn at ${mid}): on a post spike Δw = ${sci(r.nu)}·(x − ${r.xTarget})·(wMax − w)^${r.mu}, x = exp(−Δt/${r.tauPreMs} ms); inputs silent before the spike are depressed.`;
  }
}

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

  update(p: StdpWindowSpec | null): void {
    if (!p) {
      this.chart.setData([[], [], []]);
      this.caption.textContent = 'This experiment has no plastic connection.';
      return;
    }
    const c = stdpCurve(p);
    this.chart.setData([c.xs, c.pot, c.dep]);
    this.caption.textContent = caption(p);
  }

  destroy(): void {
    this.chart.destroy();
  }
}
