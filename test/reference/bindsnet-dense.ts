/**
 * A literal dense simulator of BindsNET's synchronous step order (DiehlAndCook2015 as eth_mnist
 * runs it), in float32: every neuron of every layer is updated every step, every weight is
 * clamped after every learning step, nothing is event-driven or SIMD. Written from the step
 * order (docs/models.md, steps 1–6) for the options BindsNET has: current synapses, no extra
 * delays, post-pre STDP, reset between samples (only θ decays through the rest).
 *
 * Self-contained (no import of src/engine): the input is given as the spikes of each step and
 * the one-spike draw as a callback, so a test can feed it the engine's encoded input and the
 * same PRNG stream and compare bit for bit (test/engine/network.test.ts).
 */

const f = Math.fround;

function decayFactor(dtMs: number, tauMs: number): number {
  return f(Math.exp(f(-dtMs / tauMs)));
}

interface Lif {
  restMv: number;
  resetMv: number;
  thresholdMv: number;
  refractoryMs: number;
  tauMs: number;
  synapse?: { type: string };
}

/** The subset of the engine's NetworkSpec this reference simulates. */
export interface DenseReferenceSpec {
  inputs: number;
  neurons: number;
  steps: number;
  dtMs: number;
  restBetweenSamplesMs: number;
  resetBetweenSamples: boolean;
  inputTraceTauMs: number;
  excitatory: Lif & { thetaPlusMv: number; tauThetaMs: number; traceTauMs: number; oneSpikePerStep: boolean; adaptive: boolean };
  inhibitory: (Lif & { excToInh: number; inhToExc: number }) | null;
  dense: {
    wMin: number;
    wMax: number;
    plasticity: { rule: string; nuPre?: number; nuPost?: number } | null;
    norm: number | null;
    delay?: unknown;
  };
}

export class BindsnetDenseReference {
  readonly n: number;
  readonly inputs: number;
  readonly W: Float32Array; // [inputs, n]
  readonly theta: Float32Array;
  readonly counts: Int32Array;
  private readonly spec: DenseReferenceSpec;
  private normalizeAllNext = true;
  excRaster: number[] = [];
  inhRaster: number[] = [];

  constructor(spec: DenseReferenceSpec, weights: Float32Array, theta: Float32Array) {
    const unsupported =
      !spec.resetBetweenSamples ||
      (spec.excitatory.synapse && spec.excitatory.synapse.type !== 'current') ||
      (spec.inhibitory?.synapse && spec.inhibitory.synapse.type !== 'current') ||
      (spec.dense.delay ?? null) !== null ||
      (spec.dense.plasticity !== null && spec.dense.plasticity.rule !== 'post-pre');
    if (unsupported) throw new Error('the BindsNET reference simulates reset, current synapses, no delays and post-pre only');
    this.spec = spec;
    this.n = spec.neurons;
    this.inputs = spec.inputs;
    this.W = Float32Array.from(weights);
    this.theta = Float32Array.from(theta);
    this.counts = new Int32Array(this.n);
  }

  /**
   * One sample: `input[t]` lists the inputs spiking at step t (in the order their currents are
   * summed); `below(k)` draws the one-spike winner among k crossing neurons.
   */
  runSample(input: number[][], learning: boolean, below: (k: number) => number): void {
    const { spec, n, W, inputs } = this;
    const steps = spec.steps;
    const th = this.theta;
    const dt = f(spec.dtMs);
    const E = spec.excitatory;
    const H = spec.inhibitory;
    const dE = decayFactor(spec.dtMs, E.tauMs);
    const dTrX = decayFactor(spec.dtMs, spec.inputTraceTauMs);
    const dTrE = decayFactor(spec.dtMs, E.traceTauMs);
    const dTheta = decayFactor(spec.dtMs, E.tauThetaMs);
    const dI = H ? decayFactor(spec.dtMs, H.tauMs) : 0;
    const rule = spec.dense.plasticity;
    const nuPre = rule ? f(rule.nuPre ?? 0) : 0;
    const nuPost = rule ? f(rule.nuPost ?? 0) : 0;
    const wMin = f(spec.dense.wMin);
    const wMax = f(spec.dense.wMax);
    const adapt = E.adaptive && learning;

    const vE = new Float32Array(n).fill(E.restMv);
    const rE = new Float32Array(n);
    const vI = new Float32Array(n).fill(H ? H.restMv : 0);
    const rI = new Float32Array(n);
    const xX = new Float32Array(inputs);
    const xE = new Float32Array(n);
    let sXprev: number[] = [];
    let sEprev = new Uint8Array(n);
    let sIprev = new Uint8Array(n);
    this.counts.fill(0);
    this.excRaster = [];
    this.inhRaster = [];
    const fired = new Uint8Array(n);
    const wIE = H ? H.inhToExc : 0;

    for (let t = 0; t < steps; t++) {
      // 1. inputs from step t−1 (summed in spike order, float32; all-but-self as (Σ − w·s_j) + w·#sI).
      let nI = 0;
      for (let k = 0; k < n; k++) nI += sIprev[k];
      const IE = new Float32Array(n);
      for (const i of sXprev) for (let j = 0; j < n; j++) IE[j] = f(IE[j] + W[i * n + j]);
      for (let j = 0; j < n; j++) IE[j] = f(f(IE[j] + (sIprev[j] ? -wIE : 0)) + f(wIE * nI));
      const II = new Float32Array(n);
      for (let k = 0; k < n; k++) II[k] = sEprev[k] && H ? H.excToInh : 0;

      // 2. X
      const sX = input[t];
      for (let i = 0; i < inputs; i++) xX[i] = f(xX[i] * dTrX);
      for (const i of sX) xX[i] = 1;

      // 3. Ae
      const crossed: number[] = [];
      for (let j = 0; j < n; j++) {
        vE[j] = f(f(dE * f(vE[j] - f(E.restMv))) + f(E.restMv));
        if (adapt) th[j] = f(th[j] * dTheta);
        if (rE[j] <= 0) vE[j] = f(vE[j] + IE[j]);
        rE[j] = f(rE[j] - dt);
        if (vE[j] >= f(f(E.thresholdMv) + th[j])) {
          crossed.push(j);
          rE[j] = f(E.refractoryMs);
          vE[j] = f(E.resetMv);
          if (adapt) th[j] = f(th[j] + f(E.thetaPlusMv));
        }
      }
      const sE = new Uint8Array(n);
      if (crossed.length > 1 && E.oneSpikePerStep) sE[crossed[below(crossed.length)]] = 1;
      else for (const j of crossed) sE[j] = 1;
      for (let j = 0; j < n; j++) {
        xE[j] = f(xE[j] * dTrE);
        if (sE[j]) {
          xE[j] = 1;
          this.counts[j]++;
          fired[j] = 1;
          this.excRaster.push(t, j);
        }
      }

      // 4. Ai
      const sI = new Uint8Array(n);
      if (H) {
        for (let k = 0; k < n; k++) {
          vI[k] = f(f(dI * f(vI[k] - f(H.restMv))) + f(H.restMv));
          const inp = rI[k] > 0 ? 0 : II[k];
          rI[k] = f(rI[k] - dt);
          vI[k] = f(vI[k] + inp);
          if (vI[k] >= f(H.thresholdMv)) {
            sI[k] = 1;
            rI[k] = f(H.refractoryMs);
            vI[k] = f(H.resetMv);
            this.inhRaster.push(t, k);
          }
        }
      }

      // 5. STDP (this step's spikes and traces), then clamp all of W to [wMin, wMax].
      if (learning && rule) {
        for (const i of sX) for (let j = 0; j < n; j++) W[i * n + j] = f(W[i * n + j] - f(nuPre * xE[j]));
        for (let j = 0; j < n; j++) if (sE[j]) for (let i = 0; i < inputs; i++) W[i * n + j] = f(W[i * n + j] + f(nuPost * xX[i]));
        for (let e = 0; e < W.length; e++) W[e] = W[e] < wMin ? wMin : W[e] > wMax ? wMax : W[e];
      }
      sXprev = sX;
      sEprev = sE;
      sIprev = sI;
    }

    if (learning && spec.dense.norm !== null) {
      // w[:, j] *= fl32(fl32(1/fl32(Σ_i w[i, j]))·norm) (fp64 accumulation); every column on the
      // first sample / after a clamp event, else only the columns STDP touched (fired).
      let over = false;
      for (let j = 0; j < n; j++) {
        if (!this.normalizeAllNext && !fired[j]) continue;
        let sum = 0;
        for (let i = 0; i < inputs; i++) sum += W[i * n + j];
        let s = f(sum);
        if (s === 0) s = 1;
        const factor = f(f(1 / s) * spec.dense.norm);
        for (let i = 0; i < inputs; i++) {
          W[i * n + j] = f(W[i * n + j] * factor);
          // Out of [wMin, wMax]: the next training step's clamp changes it (BindsNET), after
          // which every column is renormalized.
          if (W[i * n + j] > wMax || W[i * n + j] < wMin) over = true;
        }
      }
      this.normalizeAllNext = over;
    }
    if (learning && E.adaptive) {
      // θ keeps decaying through the rest between samples.
      const restSteps = Math.round(spec.restBetweenSamplesMs / spec.dtMs);
      for (let j = 0; j < n; j++) for (let k = 0; k < restSteps; k++) th[j] = f(th[j] * dTheta);
    }
  }
}
