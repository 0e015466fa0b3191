/**
 * Conductance-based synapses (Diehl & Cook's Brian model) in the kernel, docs/models.md steps 1–3:
 *   ge ← ge + Σ w (arrivals), gi ← gi + wIE·(|sH(t−1)| − sH_j(t−1))
 *   v ← v + k·((rest − v) + ge·(Ee − v) + gi·(Ei − v)), k = dt/τ, unless refractory (v stays at reset),
 *   kept within [min(rest, Ei), max(rest, Ee)]
 *   ge ← ge·e^(−dt/τe), gi ← gi·e^(−dt/τi) every step
 * checked bit for bit against that Euler step written here, and analytically: v is driven toward
 * Ee by ge, relaxes toward rest, and the ge the trajectory implies decays by e^(−dt/τe) per step.
 */
import { describe, expect, it } from 'vitest';
import { decayFactor } from '../../src/engine/spec.js';
import { f, run, spikeTrain, tinyNet, type TinyOptions } from './tiny.js';

const DT = 0.5;
const SYN = { type: 'conductance' as const, excTauMs: 5, inhTauMs: 10, excReversalMv: 0, inhReversalMv: -100 };
const EXC_C = { restMv: -65, resetMv: -60, thresholdMv: -52, refractoryMs: 5, tauMs: 100, synapse: SYN };
const FLUSH = 2 ** -100;

/** One neuron's state and the documented Euler step. */
class Cond {
  v: number;
  r = 0;
  ge = 0;
  gi = 0;
  readonly k: number;
  readonly dge: number;
  readonly dgi: number;
  constructor(private readonly p: typeof EXC_C) {
    this.v = p.restMv;
    this.k = f(DT / p.tauMs);
    this.dge = decayFactor(DT, p.synapse.excTauMs);
    this.dgi = decayFactor(DT, p.synapse.inhTauMs);
  }
  /** Returns true on a spike. */
  step(a: number, h: number): boolean {
    const { restMv: rest, synapse: s } = this.p;
    const ge = f(this.ge + a);
    const gi = f(this.gi + h);
    const v = this.v;
    if (this.r <= 0) {
      this.v = f(v + f(this.k * f(f(f(rest - v) + f(ge * f(s.excReversalMv - v))) + f(gi * f(s.inhReversalMv - v)))));
      this.v = Math.min(Math.max(this.v, Math.min(rest, s.inhReversalMv)), Math.max(rest, s.excReversalMv));
    }
    this.r = f(this.r - DT);
    this.ge = f(ge * this.dge);
    if (Math.abs(this.ge) < FLUSH) this.ge = 0;
    this.gi = f(gi * this.dgi);
    if (Math.abs(this.gi) < FLUSH) this.gi = 0;
    if (this.v >= this.p.thresholdMv) {
      this.v = this.p.resetMv;
      this.r = this.p.refractoryMs;
      return true;
    }
    return false;
  }
}

function opts(o: TinyOptions): TinyOptions {
  return { dtMs: DT, excitatory: EXC_C, ...o };
}

describe('conductance synapses', () => {
  it('a sub-threshold input: the Euler step of docs/models.md bit for bit; v rises toward Ee, then relaxes toward rest', () => {
    const steps = 120;
    const w = 0.5;
    const net = tinyNet(opts({ inputs: 1, neurons: 1, steps }), [[w]]);
    const rec = run(net, spikeTrain(steps, [[0, 0], [6, 0]]));
    expect(rec.excitatory).toEqual([]);
    const n = new Cond(EXC_C);
    const v: number[] = [];
    for (let t = 0; t < steps; t++) {
      n.step(t === 1 || t === 7 ? f(w) : 0, 0);
      v.push(n.v);
      expect(rec.V(t, 0), `step ${t}`).toBe(n.v);
    }
    expect(v[0]).toBe(-65);
    // Driven up (toward Ee = 0) while ge is large, never past it …
    expect(v[1]).toBeGreaterThan(-65);
    const peak = Math.max(...v);
    expect(peak).toBeGreaterThan(-64);
    expect(peak).toBeLessThan(0);
    // … then back toward rest, monotonically, staying above it.
    const top = v.indexOf(peak);
    for (let t = top + 1; t < steps; t++) {
      expect(v[t]).toBeLessThanOrEqual(v[t - 1]);
      expect(v[t]).toBeGreaterThan(-65);
    }
    expect(v[steps - 1] + 65).toBeLessThan(0.7 * (peak + 65));
  });

  it('the ge implied by the voltage trajectory decays by exp(−dt/τe) per step', () => {
    const steps = 14;
    const net = tinyNet(opts({ inputs: 1, neurons: 1, steps }), [[0.5]]);
    const rec = run(net, spikeTrain(steps, [[0, 0]]));
    const k = DT / 100;
    // From one Euler step: ge(t) = ((v(t) − v(t−1))/k − (rest − v(t−1))) / (Ee − v(t−1)).
    const ge = (t: number) => ((rec.V(t, 0) - rec.V(t - 1, 0)) / k - (-65 - rec.V(t - 1, 0))) / (0 - rec.V(t - 1, 0));
    expect(Math.abs(ge(1) - 0.5)).toBeLessThan(1e-3);
    const ratio = Math.exp(-DT / SYN.excTauMs);
    for (let t = 2; t < steps; t++) expect(Math.abs(ge(t) / ge(t - 1) - ratio), `step ${t}`).toBeLessThan(2e-3);
  });

  it('a spike: v stays at reset while refractory (ge keeps decaying), then the Euler step resumes', () => {
    const steps = 60;
    const net = tinyNet(opts({ inputs: 1, neurons: 1, steps }), [[30]]);
    const rec = run(net, spikeTrain(steps, [[0, 0]]));
    const n = new Cond(EXC_C);
    const spikes: number[] = [];
    for (let t = 0; t < steps; t++) {
      if (n.step(t === 1 ? 30 : 0, 0)) spikes.push(t, 0);
      expect(rec.V(t, 0), `step ${t}`).toBe(n.v);
    }
    expect(rec.excitatory).toEqual(spikes);
    // Two spikes: the ge left after the refractory period drives the second.
    expect(spikes.length).toBe(4);
    const s = spikes[0];
    const R = 5 / DT;
    for (let q = 0; q <= R; q++) expect(rec.V(s + q, 0)).toBe(-60);
    expect(rec.V(s + R + 1, 0)).not.toBe(-60);
  });

  it('inhibition: an inhibitory spike adds wIE to gi of every other excitatory neuron, pulling v toward Ei', () => {
    // E0 spikes at step 1 or 2, its (conductance) inhibitory partner the step after, E1 and E2 get gi.
    const steps = 30;
    const wIE = 17;
    const inh = { restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10, excToInh: 10.4, inhToExc: wIE,
      synapse: { type: 'conductance' as const, excTauMs: 1, inhTauMs: 2, excReversalMv: 0, inhReversalMv: -85 } };
    const net = tinyNet(opts({ inputs: 2, neurons: 3, steps, inhibitory: inh }), [
      [30, 0, 0],
      [0, 0, 0.2],
    ]);
    const rec = run(net, spikeTrain(steps, [[0, 0], [3, 1]]));
    // Every E0 spike makes its partner H0 spike one step later (E0 spikes twice: residual ge).
    expect(rec.excitatory.length).toBe(4);
    expect(rec.inhibitory).toEqual([rec.excitatory[0] + 1, 0, rec.excitatory[2] + 1, 0]);
    const tH = rec.inhibitory[0];
    const hAt = new Set([rec.inhibitory[0], rec.inhibitory[2]]);
    const ns = [0, 1, 2].map(() => new Cond(EXC_C));
    const want: number[] = [];
    for (let t = 0; t < steps; t++) {
      const hspk = hAt.has(t - 1) ? 1 : 0;
      const a = [t === 1 ? 30 : 0, 0, t === 4 ? f(0.2) : 0];
      for (let j = 0; j < 3; j++) {
        if (ns[j].step(a[j], f(wIE * (hspk - (j === 0 ? hspk : 0))))) want.push(t, j);
        expect(rec.V(t, j), `step ${t}, neuron ${j}`).toBe(ns[j].v);
      }
    }
    expect(rec.excitatory).toEqual(want);
    // E1 was at rest: pulled below it, toward Ei = −100; E0 (its partner spiked) was not inhibited.
    expect(rec.V(tH + 1, 1)).toBeLessThan(-65);
    expect(rec.V(tH + 1, 1)).toBeGreaterThan(-100);
    expect(Math.min(...Array.from({ length: steps }, (_, t) => rec.V(t, 1)))).toBeLessThan(-66);
  });

  it('v stays within [Ei, Ee] when many inhibitory spikes arrive at once (plain Euler would diverge)', () => {
    // 40 of 80 neurons driven over threshold by one input: their 40 inhibitory partners spike next,
    // and each of the 40 silent (not refractory) neurons gets gi = 17·40 = 680, k·gi = 3.4 > 2.
    const n = 80;
    const steps = 80;
    const inh = { restMv: -60, resetMv: -45, thresholdMv: -40, refractoryMs: 2, tauMs: 10, excToInh: 10.4, inhToExc: 17,
      synapse: { type: 'conductance' as const, excTauMs: 1, inhTauMs: 2, excReversalMv: 0, inhReversalMv: -85 } };
    const syn = { ...SYN, excTauMs: 1, inhTauMs: 2 };
    const w = Array.from({ length: n }, (_, j) => (j < 40 ? 30 : 0));
    const net = tinyNet({ dtMs: DT, excitatory: { ...EXC_C, synapse: syn }, inputs: 1, neurons: n, steps, inhibitory: inh }, [w]);
    const silent = Array.from({ length: 16 }, (_, q) => 40 + q);
    const rec = run(net, spikeTrain(steps, [[0, 0]]), false, silent);
    expect(rec.inhibitory.length / 2).toBeGreaterThanOrEqual(40);
    for (const v of rec.voltage) {
      expect(v).toBeGreaterThanOrEqual(-100);
      expect(v).toBeLessThanOrEqual(0);
    }
    // No runaway: the silent half never fires.
    for (let a = 0; a < rec.excitatory.length; a += 2) expect(rec.excitatory[a + 1]).toBeLessThan(40);
  });
});
