/**
 * The Diehl & Cook network: input X → excitatory adaptive LIF Ae (dense, post-pre STDP,
 * normalization) → inhibitory LIF Ai (one-to-one) → Ae (all-but-self), stepped exactly in the
 * order of BindsNET's `Network.run` (synchronous mode):
 *
 *   for t in 0..T−1:
 *     1. inputs of every layer come from the spikes of step t−1 (every connection has a one-step
 *        delay, the input connection too): I_E = W·sX(t−1) + w_IE·(#sI(t−1) − sI(t−1)),
 *        I_I = w_EI·sE(t−1)
 *     2. X: sX(t) = encoded input; input traces (lazy, see stdp.ts)
 *     3. Ae: adaptive LIF step; `one_spike`: if several neurons crossed, one chosen uniformly at
 *        random keeps its spike (the others stay reset, refractory and θ-bumped); post traces
 *     4. Ai: LIF step (event-driven)
 *     5. learning: post-pre STDP on W with this step's spikes and traces, clamp to [wMin, wMax]
 *   after T steps (learning): normalize the columns STDP touched; reset v, refractory, traces.
 *
 * Normalization visits only the columns of neurons that fired in the sample: no other column
 * changed, and each already sums to `norm` within float32 rounding (BindsNET would rescale it by
 * 1 ± 1 ulp). The first sample, and any sample after a clamp, normalizes every column.
 * Weights that normalization pushes above wMax are clamped at the start of the next training
 * sample, where BindsNET's first STDP step (which cannot change anything at t = 0) clamps them.
 *
 * No allocation happens per step; buffers are sized once.
 */
import { adaptiveLifParams, resetAdaptiveLifState, type AdaptiveLifParams, type AdaptiveLifState } from './adaptive-lif.js';
import { clampWeights, initWeights, normalizeAllColumns, normalizeColumns, type WeightInit } from './connections.js';
import { createJsExcKernel, createWasmExcKernel, type ExcKernel } from './exc-kernel.js';
import { createEncoder, createSpikeTrain, type Encoder, type EncoderType, type SpikeTrain } from './encoders.js';
import { ActiveSet, decayFactor, lifParams, resetLifState, stepLifActive, type LifParams, type LifSpec, type LifState } from './lif.js';
import { Scalar } from './kernel-layout.js';
import { Prng } from './prng.js';
import { depressActiveColumns, potentiateColumn, traceTable, type PostPreParams } from './stdp.js';


export interface NetworkSpec {
  inputs: number;
  neurons: number;
  /** Simulation steps per sample. */
  steps: number;
  dtMs: number;
  restMs: number;
  seed: number;
  encoder: { type: EncoderType; maxRateHz: number };
  inputTraceTauMs: number;
  excitatory: LifSpec & { thetaPlusMv: number; tauThetaMs: number; traceTauMs: number; oneSpikePerStep: boolean; adaptive: boolean };
  /** Null: no inhibitory layer (no winner-take-all). */
  inhibitory: (LifSpec & { excToInh: number; inhToExc: number }) | null;
  dense: { init: WeightInit; wMin: number; wMax: number; plasticity: { nuPre: number; nuPost: number } | null; norm: number | null };
}

/** Optional per-sample recording for live rasters and voltage traces. */
export interface SampleRecording {
  /** Pairs (step, neuron). */
  input: number[];
  excitatory: number[];
  inhibitory: number[];
  /** Neurons whose voltage is recorded. */
  voltageNeurons: number[];
  voltage: number[];
  threshold: number[];
}

export function createRecording(voltageNeurons: number[]): SampleRecording {
  return { input: [], excitatory: [], inhibitory: [], voltageNeurons, voltage: [], threshold: [] };
}

/** Everything that persists between samples and defines the learned network. */
export interface NetworkState {
  weights: Float32Array;
  theta: Float32Array;
  prng: Uint32Array;
  normalizeAll: boolean;
  needClamp: boolean;
}

export class DiehlCookNetwork {
  readonly spec: NetworkSpec;
  readonly inputs: number;
  readonly neurons: number;
  readonly steps: number;
  readonly rng: Prng;
  /** Row length of `weights`: neurons padded to the kernel's SIMD block. */
  readonly stride: number;
  /** [inputs, stride], row = input neuron; see `denseWeights()` for the unpadded matrix. */
  readonly weights: Float32Array;
  readonly kernel: ExcKernel;
  readonly exc: AdaptiveLifState;
  /** Spikes of each excitatory neuron in the last sample. */
  readonly counts: Int32Array;
  /** Input spikes of the last sample. */
  inputSpikes = 0;
  /** Excitatory spikes (after one_spike) of the last sample. */
  excSpikes = 0;

  private readonly excParams: AdaptiveLifParams;
  private readonly inhParams: LifParams | null;
  private readonly inh: LifState | null;
  private readonly inhActive: ActiveSet;
  private readonly inhInput: Float32Array;
  private readonly stdp: PostPreParams | null;
  /** Encoders by extra rate (Hz): 0 is the definition's; others serve re-presentations. */
  private readonly encoders = new Map<number, Encoder>();
  private readonly train: SpikeTrain;
  private readonly crossed: Int32Array;
  private readonly excSpiking: Int32Array;
  private readonly inhSpiking: Int32Array;
  private readonly spikingNow: Uint8Array;
  private readonly prevExc: Int32Array;
  private readonly postTrace: Float32Array;
  /** Neurons that fired in this sample (their post trace is non-zero). */
  private readonly postActive: Int32Array;
  private postActiveCount = 0;
  private readonly firedThisSample: Uint8Array;
  private readonly lastInputSpike: Int32Array;
  private readonly inputTraceTable: Float32Array;
  private readonly postTraceDecay: number;
  private readonly restSteps: number;
  private readonly scalars: Int32Array;
  /** The kernel encodes base-rate samples itself (same law, same PRNG stream as encoders.ts). */
  private readonly wasmEncodes: boolean;
  private normalizeAll = true;
  private needClamp = false;

  /** `wasm`: the compiled SIMD kernel module (exc-kernel.ts); null runs the plain-JS kernel. */
  constructor(spec: NetworkSpec, wasm: WebAssembly.Module | null = null) {
    this.spec = spec;
    const n = spec.neurons;
    this.inputs = spec.inputs;
    this.neurons = n;
    this.steps = spec.steps;
    this.rng = new Prng(spec.seed);
    const e = spec.excitatory;
    this.excParams = adaptiveLifParams(
      { ...e, thetaPlusMv: e.adaptive ? e.thetaPlusMv : 0, tauThetaMs: e.adaptive ? e.tauThetaMs : Infinity },
      spec.dtMs,
    );
    this.kernel = wasm
      ? createWasmExcKernel(wasm, this.excParams, spec.inputs, n, spec.steps)
      : createJsExcKernel(this.excParams, spec.inputs, n, spec.steps);
    const arrays = this.kernel.arrays;
    this.stride = this.kernel.stride;
    this.weights = this.kernel.weights;
    initWeights(this.weights, spec.inputs, n, this.stride, spec.dense.init, () => this.rng.nextFloat24());
    // BindsNET clamps the whole matrix at the first learning step: initial weights outside the
    // bounds are clamped when the first training sample starts.
    for (let i = 0; i < spec.inputs && !this.needClamp; i++)
      for (let j = 0, e = i * this.stride; j < n; j++, e++)
        if (this.weights[e] < spec.dense.wMin || this.weights[e] > spec.dense.wMax) this.needClamp = true;
    this.exc = this.kernel.state;
    resetAdaptiveLifState(this.excParams, this.exc);
    this.inhParams = spec.inhibitory ? lifParams(spec.inhibitory, spec.dtMs) : null;
    this.inh = this.inhParams ? { v: arrays.inhV, refractory: arrays.inhRefractory } : null;
    if (this.inhParams && this.inh) resetLifState(this.inhParams, this.inh);
    this.inhActive = new ActiveSet({ list: arrays.inhActiveList, member: arrays.inhActiveMember });
    this.inhInput = arrays.inhInput;
    const rule = spec.dense.plasticity;
    // Rates and bounds are float32 tensors in BindsNET.
    this.stdp = rule
      ? { nuPre: Math.fround(rule.nuPre), nuPost: Math.fround(rule.nuPost), wMin: Math.fround(spec.dense.wMin), wMax: Math.fround(spec.dense.wMax) }
      : null;
    const baseEncoder = createEncoder(spec.encoder.type, spec.steps, spec.dtMs, spec.encoder.maxRateHz);
    this.encoders.set(0, baseEncoder);
    if (baseEncoder.tables) {
      arrays.cdf.set(baseEncoder.tables.cdf);
      arrays.guide.set(baseEncoder.tables.guide);
    }
    this.wasmEncodes = this.kernel.encode !== null && baseEncoder.tables !== null;
    this.train = createSpikeTrain(spec.inputs, spec.steps, arrays);
    this.crossed = arrays.crossed;
    this.excSpiking = arrays.excSpiking;
    this.inhSpiking = arrays.inhSpiking;
    this.spikingNow = arrays.spikingNow;
    this.prevExc = arrays.prevExc;
    this.postTrace = arrays.postTrace;
    this.postActive = arrays.postActive;
    this.firedThisSample = arrays.fired;
    this.counts = arrays.counts.subarray(0, n);
    this.lastInputSpike = arrays.lastInput.fill(-1);
    this.inputTraceTable = arrays.traceTable;
    this.inputTraceTable.set(traceTable(decayFactor(spec.dtMs, spec.inputTraceTauMs), spec.steps));
    this.postTraceDecay = decayFactor(spec.dtMs, e.traceTauMs);
    this.restSteps = Math.round(spec.restMs / spec.dtMs);
    this.scalars = arrays.scalars;
    this.kernel.configureSampleLoop({
      inhibitory: this.inhParams,
      excToInh: spec.inhibitory?.excToInh ?? 0,
      inhToExc: spec.inhibitory?.inhToExc ?? 0,
      postTraceDecay: this.postTraceDecay,
      stdp: this.stdp,
      oneSpikePerStep: e.oneSpikePerStep,
    });
  }

  /** Adaptive thresholds θ of the real (unpadded) neurons, as a view. */
  get theta(): Float32Array {
    return this.exc.theta.subarray(0, this.neurons);
  }

  /** A copy of the weights as an unpadded row-major [inputs, neurons] matrix. */
  denseWeights(): Float32Array {
    const n = this.neurons;
    const out = new Float32Array(this.inputs * n);
    for (let i = 0; i < this.inputs; i++) out.set(this.weights.subarray(i * this.stride, i * this.stride + n), i * n);
    return out;
  }

  /**
   * Presents one image for `steps` steps and returns the number of excitatory spikes; per-neuron
   * counts are in `counts`. With `learning`, STDP, θ adaptation and normalization run.
   * `extraRateHz` raises the encoder's maximum rate (Diehl & Cook's re-presentation of samples
   * that drew too few spikes).
   */
  runSample(image: Uint8Array, learning: boolean, rec: SampleRecording | null = null, extraRateHz = 0): number {
    const steps = this.steps;
    const W = this.weights;
    const stride = this.stride;
    const train = this.train;
    const kernel = this.kernel;
    const extra = kernel.extra;
    const inhP = this.inhParams;
    const inh = this.inh;
    const stdp = learning ? this.stdp : null;
    const crossed = this.crossed;
    const excSpiking = this.excSpiking;
    const inhSpiking = this.inhSpiking;
    const spikingNow = this.spikingNow;
    const prevExc = this.prevExc;
    const postTrace = this.postTrace;
    const postActive = this.postActive;
    const fired = this.firedThisSample;
    const lastInput = this.lastInputSpike;
    const inputTrace = this.inputTraceTable;
    const counts = this.counts;
    const trDecay = this.postTraceDecay;
    const oneSpike = this.spec.excitatory.oneSpikePerStep;
    const excToInh = this.spec.inhibitory?.excToInh ?? 0;
    const inhToExc = this.spec.inhibitory?.inhToExc ?? 0;

    this.startSample(learning);
    kernel.setSpikingInputs(train.index, 0, 0);

    // The whole sample in WebAssembly; the loop below is its reference and recording path.
    if (rec === null && kernel.runSample !== null) return this.runSampleInKernel(image, learning, extraRateHz);

    this.encoderFor(extraRateHz).encode(image, this.rng, train);
    const bucket = train.stride;
    const index = train.index;
    const count = train.count;
    this.inputSpikes = train.total;

    let nExcPrev = 0; // excitatory spikes at t−1 (in excSpiking)
    let nInhPrev = 0; // inhibitory spikes at t−1 (in inhSpiking)
    let total = 0;
    for (let t = 0; t < steps; t++) {
      // 1+3. Ae from spikes of t−1.
      for (let a = 0; a < nInhPrev; a++) extra[inhSpiking[a]] = -inhToExc;
      const nCrossed = kernel.step(inhToExc * nInhPrev, learning);
      for (let a = 0; a < nInhPrev; a++) extra[inhSpiking[a]] = 0;

      // Ai consumes Ae's spikes of t−1 before they are replaced by this step's.
      if (inhP !== null && inh !== null) {
        for (let a = 0; a < nExcPrev; a++) {
          const k = prevExc[a];
          this.inhInput[k] = excToInh;
          this.inhActive.add(k);
        }
      }
      for (let a = 0; a < nExcPrev; a++) spikingNow[prevExc[a]] = 0;

      let nExc = nCrossed;
      if (nCrossed > 1 && oneSpike) {
        excSpiking[0] = crossed[this.rng.below(nCrossed)];
        nExc = 1;
      } else {
        for (let a = 0; a < nCrossed; a++) excSpiking[a] = crossed[a];
      }
      // Post traces: only neurons that fired in this sample are non-zero.
      for (let a = 0; a < this.postActiveCount; a++) {
        const j = postActive[a];
        postTrace[j] = Math.fround(postTrace[j] * trDecay);
      }
      for (let a = 0; a < nExc; a++) {
        const j = excSpiking[a];
        postTrace[j] = 1;
        spikingNow[j] = 1;
        counts[j]++;
        if (fired[j] === 0) {
          fired[j] = 1;
          postActive[this.postActiveCount++] = j;
        }
      }
      total += nExc;

      // 2. X: this step's input spikes; traces are read lazily from the last spike time.
      const base = t * bucket;
      const nIn = count[t];
      for (let r = 0; r < nIn; r++) lastInput[index[base + r]] = t;
      kernel.setSpikingInputs(index, base, nIn);

      // 4. Ai.
      let nInh = 0;
      if (inhP !== null && inh !== null) {
        nInh = stepLifActive(inhP, inh, this.inhActive, this.inhInput, inhSpiking);
        for (let a = 0; a < nExcPrev; a++) this.inhInput[prevExc[a]] = 0;
      }

      // 5. STDP.
      if (stdp !== null && this.postActiveCount > 0) {
        if (nIn > 0) depressActiveColumns(stdp, kernel, postActive, this.postActiveCount, postTrace, spikingNow);
        for (let a = 0; a < nExc; a++) {
          potentiateColumn(stdp, W, stride, excSpiking[a], train.active, train.activeCount, lastInput, inputTrace, t, 1);
        }
      }

      if (rec !== null) this.record(rec, t, nExc, nInh);
      for (let a = 0; a < nExc; a++) prevExc[a] = excSpiking[a];
      nExcPrev = nExc;
      nInhPrev = nInh;
    }
    for (let a = 0; a < nExcPrev; a++) spikingNow[prevExc[a]] = 0;
    this.excSpikes = total;
    if (learning) this.endLearningSample();
    return total;
  }

  /** runSample through the WASM kernel: encoding (base rate) and every step in linear memory. */
  private runSampleInKernel(image: Uint8Array, learning: boolean, extraRateHz: number): number {
    const kernel = this.kernel;
    const train = this.train;
    const sc = this.scalars;
    if (this.wasmEncodes && extraRateHz === 0 && kernel.encode !== null) {
      this.rngToKernel();
      kernel.arrays.image.set(image);
      train.total = kernel.encode(this.inputs, this.steps);
      train.stride = train.activeCount = sc[Scalar.activeCount];
    } else {
      this.encoderFor(extraRateHz).encode(image, this.rng, train);
      this.rngToKernel();
    }
    this.inputSpikes = train.total;
    sc[Scalar.postActiveCount] = this.postActiveCount;
    sc[Scalar.inhActiveSize] = this.inhActive.size;
    const spikes = kernel.runSample!(this.steps, train.stride, train.activeCount, learning);
    this.rngFromKernel();
    this.postActiveCount = sc[Scalar.postActiveCount];
    this.inhActive.size = sc[Scalar.inhActiveSize];
    this.excSpikes = spikes;
    if (learning) this.endLearningSample();
    return spikes;
  }

  private rngToKernel(): void {
    const sc = this.scalars;
    sc[Scalar.rng0] = this.rng.s0;
    sc[Scalar.rng1] = this.rng.s1;
    sc[Scalar.rng2] = this.rng.s2;
    sc[Scalar.rng3] = this.rng.s3;
  }

  private rngFromKernel(): void {
    const sc = this.scalars;
    this.rng.s0 = sc[Scalar.rng0];
    this.rng.s1 = sc[Scalar.rng1];
    this.rng.s2 = sc[Scalar.rng2];
    this.rng.s3 = sc[Scalar.rng3];
  }

  private encoderFor(extraRateHz: number): Encoder {
    let e = this.encoders.get(extraRateHz);
    if (!e) {
      const { type, maxRateHz } = this.spec.encoder;
      e = createEncoder(type, this.steps, this.spec.dtMs, maxRateHz + extraRateHz);
      this.encoders.set(extraRateHz, e);
    }
    return e;
  }

  private startSample(learning: boolean): void {
    resetAdaptiveLifState(this.excParams, this.exc);
    if (this.inhParams !== null && this.inh !== null) resetLifState(this.inhParams, this.inh);
    this.inhActive.clear();
    this.inhInput.fill(0);
    for (let a = 0; a < this.postActiveCount; a++) {
      const j = this.postActive[a];
      this.postTrace[j] = 0;
      this.firedThisSample[j] = 0;
    }
    this.postActiveCount = 0;
    this.counts.fill(0);
    const active = this.train.active;
    for (let q = 0; q < this.train.activeCount; q++) this.lastInputSpike[active[q]] = -1;
    if (learning && this.needClamp && this.stdp !== null) {
      clampWeights(this.weights, this.inputs, this.neurons, this.stride, this.stdp.wMin, this.stdp.wMax);
      this.needClamp = false;
      this.normalizeAll = true;
    }
  }

  private endLearningSample(): void {
    const { norm, wMin, wMax } = this.spec.dense;
    if (norm !== null) {
      if (this.normalizeAll) {
        this.needClamp = normalizeAllColumns(this.weights, this.inputs, this.neurons, this.stride, norm, wMin, wMax);
        this.normalizeAll = false;
      } else if (this.postActiveCount > 0) {
        this.needClamp = normalizeColumns(this.weights, this.inputs, this.stride, this.postActive, this.postActiveCount, norm, wMin, wMax);
      }
    }
    if (this.restSteps > 0 && this.spec.excitatory.adaptive) {
      // Between samples nothing but θ's decay survives the state reset.
      const theta = this.exc.theta;
      const d = this.excParams.thetaDecay;
      for (let j = 0; j < this.neurons; j++) {
        let th = theta[j];
        for (let k = 0; k < this.restSteps; k++) th = Math.fround(th * d);
        theta[j] = th;
      }
    }
  }

  private record(rec: SampleRecording, t: number, nExc: number, nInh: number): void {
    const train = this.train;
    const base = t * train.stride; // per-step bucket of the input spike train
    for (let r = 0; r < train.count[t]; r++) rec.input.push(t, train.index[base + r]);
    for (let a = 0; a < nExc; a++) rec.excitatory.push(t, this.excSpiking[a]);
    for (let a = 0; a < nInh; a++) rec.inhibitory.push(t, this.inhSpiking[a]);
    for (const j of rec.voltageNeurons) {
      rec.voltage.push(this.exc.v[j]);
      rec.threshold.push(this.excParams.thresholdMv + this.exc.theta[j]);
    }
  }

  getState(): NetworkState {
    return {
      weights: this.denseWeights(),
      theta: this.theta.slice(),
      prng: this.rng.getState(),
      normalizeAll: this.normalizeAll,
      needClamp: this.needClamp,
    };
  }

  setState(s: NetworkState): void {
    const n = this.neurons;
    if (s.weights.length !== this.inputs * n) throw new Error(`weights: expected ${this.inputs * n} values, got ${s.weights.length}`);
    if (s.theta.length !== n) throw new Error(`theta: expected ${n} values, got ${s.theta.length}`);
    for (let i = 0; i < this.inputs; i++) this.weights.set(s.weights.subarray(i * n, (i + 1) * n), i * this.stride);
    this.exc.theta.set(s.theta);
    this.rng.setState(s.prng);
    this.normalizeAll = s.normalizeAll;
    this.needClamp = s.needClamp;
  }
}
