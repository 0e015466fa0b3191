/**
 * The network: a thin host around the WebAssembly kernel (src/engine/assembly, compiled at build
 * time to dist/kernel/engine.wasm), which owns every per-step mechanism — encoding, neurons,
 * synapses, delays, traces, learning rules, normalization — in its linear memory. This side sets
 * parameters, initialises weights and delays, loads inputs, reads results and saves state.
 *
 * One sample is one call into the kernel. docs/models.md states what it computes, step by step.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { initDelays, initWeights } from './connections.js';
import { buildIntervalTables, GUIDE, type IntervalTables } from './interval-tables.js';
import { Prng, type RngKernel } from './prng.js';
import { kernelRule } from './rules.js';
import { decayFactor, MAX_DELAY_STEPS, type LifSpec, type NetworkSpec } from './spec.js';

export type { NetworkSpec } from './spec.js';

/** Optional per-sample recording for live rasters and voltage traces. */
export interface SampleRecording {
  /** Pairs (step, neuron). */
  input: number[];
  excitatory: number[];
  inhibitory: number[];
  /** Neurons whose voltage is recorded (at most 16). */
  voltageNeurons: number[];
  /** Per step, one value per recorded neuron. */
  voltage: number[];
  threshold: number[];
}

export function createRecording(voltageNeurons: number[]): SampleRecording {
  return { input: [], excitatory: [], inhibitory: [], voltageNeurons, voltage: [], threshold: [] };
}

/** A sample given as spikes (event streams): count[t] inputs spike at step t, listed in order in `index`. */
export interface SpikeTrainInput {
  steps: number;
  count: Int32Array;
  index: Uint16Array | Uint32Array;
}

/** Everything that persists between samples and defines the learned network. */
export interface NetworkState {
  weights: Float32Array;
  theta: Float32Array;
  prng: Uint32Array;
  normalizeAll: boolean;
  needClamp: boolean;
  /** Potentials, traces, delay lines… carried into the next sample (only without reset). */
  carried?: Uint8Array;
}

interface KernelExports {
  memory: WebAssembly.Memory;
  allocate(inputs: number, neurons: number, steps: number, ringSlots: number, traceTableLength: number): void;
  setLayer(which: number, rest: number, reset: number, threshold: number, refractory: number, lockout: number, dt: number, decay: number,
    thetaDecay: number, thetaPlus: number, synapse: number, k: number, excReversal: number, inhReversal: number, geDecay: number, giDecay: number): void;
  setNetwork(oneSpike: number, excToInh: number, inhToExc: number, reset: number, restSteps: number, norm: number): void;
  setRule(kind: number, dep: number, pot: number, xTarget: number, mu: number, wMin: number, wMax: number,
    preMode: number, preDecay: number, postAdditive: number, post1Decay: number, post2Decay: number): void;
  setRng(a: number, b: number, c: number, d: number): void;
  rngWord(k: number): number;
  seedRng(seed: number): void;
  rngNext(): number;
  below(n: number): number;
  encodeIntervals(inputs: number, steps: number): number;
  encodeLatency(inputs: number, steps: number): number;
  encodedActiveCount(): number;
  resetState(): void;
  runSample(steps: number, bucket: number, learning: number, record: number, nVoltage: number): number;
  recordedExcCount(): number;
  recordedInhCount(): number;
  flags(): number;
  setFlags(f: number): void;
  carriedStateBytes(): number;
  saveCarriedState(dst: number): void;
  loadCarriedState(src: number): void;
  scratch(bytes: number): number;
  setThreads(n: number): number;
  awaitHelpers(): void;
  stopHelpers(): void;
  failedFlag(): number;
  runAlone(jobs: number): void;
  aloneLeft(): number;
  [global: string]: unknown;
}

const compiled = new Map<string, WebAssembly.Module>();

function loadKernelFile(file: string): WebAssembly.Module {
  const cached = compiled.get(file);
  if (cached) return cached;
  // From src/engine (tests, tsx) or dist/src/engine (the built server).
  for (const dir of ['../../dist/kernel/', '../../kernel/']) {
    try {
      const module = new WebAssembly.Module(readFileSync(fileURLToPath(new URL(dir + file, import.meta.url))));
      compiled.set(file, module);
      return module;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new Error(`engine kernel not built: run \`npm run build\` (dist/kernel/${file} is missing)`);
}

/** The compiled kernel (built by `npm run build`), compiled once per thread. */
export function loadKernelModule(): WebAssembly.Module {
  return loadKernelFile('engine.wasm');
}

/** The same kernel built for a shared memory, for a network on several threads (assembly/threads.ts). */
export function loadThreadedKernelModule(): WebAssembly.Module {
  return loadKernelFile('engine-threads.wasm');
}

/** The most threads one network runs on (the kernel's MAX_THREADS). */
export const MAX_ENGINE_THREADS = 32;

/**
 * Excitatory neurons per thread below which a split does not pay: every step costs two hand-offs
 * between cores (0.3–1.4 µs a step on the 2-vCPU VM of BENCHMARKS.md), and at 1,600 neurons a
 * step's work is about 3 µs, so two threads ran 0.5–1.3× as fast as one; at 6,400, 1.3–1.7×.
 */
export const NEURONS_PER_THREAD = 3200;

/**
 * Threads a network of `neurons` excitatory neurons uses out of a budget of `budget`, never more
 * than the machine's cores: a helper waiting for a partner that is not running spins for
 * milliseconds (3 threads on 2 cores trained 6 samples/s instead of 978).
 */
export function engineThreadsFor(neurons: number, budget: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(Math.floor(budget), cores, MAX_ENGINE_THREADS, Math.floor(neurons / NEURONS_PER_THREAD)));
}

/**
 * A helper thread of a multi-threaded network: its own instance of the kernel on the network's
 * shared memory, adopting thread 0's layout, then serving its share of every step until told to
 * exit. Plain script (no imports), so it runs the same from src and from dist. If it fails, it
 * raises the kernel's FAILED flag, so thread 0 stops waiting instead of hanging.
 */
const HELPER_SCRIPT = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, index, failed } = workerData;
try {
  const abort = () => { throw new Error('engine kernel aborted'); };
  const sleepWhile = (p, v) => { Atomics.wait(new Int32Array(memory.buffer), p >> 2, v, 1000); };
  const wake = (p) => { Atomics.notify(new Int32Array(memory.buffer), p >> 2); };
  const k = new WebAssembly.Instance(module, { env: { memory, abort, sleepWhile, wake } }).exports;
  k.adoptLayout(ctrl);
  k.helperStart(index);
  while (k.helperStep(index));
} catch (e) {
  const flags = new Int32Array(memory.buffer);
  Atomics.store(flags, failed >> 2, 1);
  throw e;
}
`;

/** The single-thread build never sleeps or wakes (one thread has nobody to wait for). */
const noThreads = () => {
  throw new Error('engine kernel: no helper threads');
};

/** Ends helpers of networks dropped without `close()`. */
const orphanedHelpers = new FinalizationRegistry<Worker[]>((workers) => {
  for (const w of workers) void w.terminate();
});

/** Traces below 2^-100 are 0 (docs/models.md; the kernel's FLUSH). */
const FLUSH = 2 ** -100;

/** The longest nearest-trace table (entries); a slower trace is decayed explicitly instead. */
const MAX_TRACE_TABLE = 1 << 16;

/** The nearest-spike trace k steps after a spike, table[k], up to the first 0; null if longer than MAX_TRACE_TABLE. */
function traceTable(decay: number): Float32Array | null {
  const values = [1];
  let x = 1;
  while (x !== 0) {
    if (values.length > MAX_TRACE_TABLE) return null;
    x = Math.fround(x * decay);
    if (x < FLUSH) x = 0;
    values.push(x);
  }
  return Float32Array.from(values);
}

export class Network {
  readonly spec: NetworkSpec;
  readonly inputs: number;
  readonly neurons: number;
  readonly steps: number;
  /** Row length of the kernel's weights: neurons padded to its SIMD block. */
  readonly paddedNeurons: number;
  /** The network's random stream (the kernel's): weight and delay init, shuffles, encoding, one-spike choice. */
  readonly rng: Prng;
  /** Spikes of each excitatory neuron in the last sample. */
  readonly counts: Int32Array;
  /** Input spikes of the last sample. */
  inputSpikes = 0;
  /** Excitatory spikes (after one-spike selection) of the last sample. */
  excSpikes = 0;

  private readonly k: KernelExports;
  private readonly memory: WebAssembly.Memory;
  private readonly weightsView: Float32Array;
  private readonly thetaView: Float32Array;
  /** The kernel's image buffer (a sample's intensities are copied in here). */
  private readonly imageView: Uint8Array;
  private readonly delaysView: Uint8Array | null;
  private readonly tablesByRate = new Map<number, IntervalTables>();
  private loadedRate = Number.NaN;
  private readonly carriedPtr: number;
  private readonly carriedBytes: number;

  /**
   * `threads` > 1 splits every step's excitatory update (and delay scatter) over that many
   * threads sharing the network's memory; the results are the same bits for any count. The
   * default `module` is the kernel build the thread count needs.
   */
  constructor(spec: NetworkSpec, module?: WebAssembly.Module, threads = 1) {
    this.spec = spec;
    const n = spec.neurons;
    this.inputs = spec.inputs;
    this.neurons = n;
    this.steps = spec.steps;
    this.threads = Math.max(1, Math.min(Math.floor(threads), MAX_ENGINE_THREADS));
    const abort = () => {
      throw new Error('engine kernel aborted');
    };
    let k: KernelExports;
    let shared: WebAssembly.Memory | null = null;
    if (this.threads > 1) {
      module ??= loadThreadedKernelModule();
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
      shared = memory;
      const sleepWhile = (p: number, v: number) => void Atomics.wait(new Int32Array(memory.buffer), p >> 2, v, 1000);
      const wake = (p: number) => void Atomics.notify(new Int32Array(memory.buffer), p >> 2);
      k = new WebAssembly.Instance(module, { env: { memory, abort, sleepWhile, wake } }).exports as unknown as KernelExports;
      // Thread 0 alone runs the module's initialization; helpers adopt what it made.
      (k._initialize as () => void)();
    } else {
      k = new WebAssembly.Instance(module ?? loadKernelModule(), { env: { abort, sleepWhile: noThreads, wake: noThreads } }).exports as unknown as KernelExports;
    }
    this.k = k;
    this.rng = new Prng(k);
    this.rng.seed(spec.seed);
    this.memory = k.memory;
    const f = Math.fround;
    const dt = spec.dtMs;
    const rule = spec.dense.plasticity
      ? kernelRule(spec.dense.plasticity, { inputTraceTauMs: spec.inputTraceTauMs, excitatoryTraceTauMs: spec.excitatory.traceTauMs })
      : null;
    const preAdditive = rule?.preAdditive ?? false;
    const preDecay = decayFactor(dt, rule?.preTauMs ?? spec.inputTraceTauMs);
    const delay = spec.dense.delay;
    const maxDelay = delay ? Math.round(delay.maxMs / dt) : 0;
    if (maxDelay > MAX_DELAY_STEPS) throw new Error(`delay: at most ${MAX_DELAY_STEPS} steps`);
    const tabulated = preAdditive ? null : traceTable(preDecay);
    // 0: nearest from the table; 1: all-to-all, explicit; 2: nearest, explicit (very slow trace).
    const preMode = preAdditive ? 1 : tabulated ? 0 : 2;
    const table = tabulated ?? Float32Array.of(1);
    k.allocate(spec.inputs, n, spec.steps, delay ? maxDelay + 2 : 0, table.length);
    const e = spec.excitatory;
    this.setLayer(0, e, e.spikeLockoutMs, e.adaptive ? decayFactor(dt, e.tauThetaMs) : 1, e.adaptive ? e.thetaPlusMv : 0);
    if (spec.inhibitory) this.setLayer(1, spec.inhibitory, 0, 1, 0);
    k.setNetwork(
      e.oneSpikePerStep ? 1 : 0,
      f(spec.inhibitory?.excToInh ?? 0),
      spec.inhibitory?.inhToExc ?? 0,
      spec.resetBetweenSamples ? 1 : 0,
      Math.round(spec.restBetweenSamplesMs / dt),
      spec.dense.norm ?? 0,
    );
    k.setRule(
      rule ? this.global(rule.kernelName) : 0,
      f(rule?.dep ?? 0),
      f(rule?.pot ?? 0),
      f(rule?.xTarget ?? 0),
      rule?.mu ?? 1,
      f(spec.dense.wMin),
      f(spec.dense.wMax),
      preMode,
      preDecay,
      rule?.postAdditive ? 1 : 0,
      decayFactor(dt, rule?.postTauMs ?? e.traceTauMs),
      rule?.post2TauMs !== undefined ? decayFactor(dt, rule.post2TauMs) : 1,
    );
    // After the parameters: helpers adopt the values saved here.
    const ctrl = k.setThreads(this.threads);
    this.carriedBytes = spec.resetBetweenSamples ? 0 : k.carriedStateBytes();
    this.carriedPtr = spec.resetBetweenSamples ? 0 : k.scratch(this.carriedBytes);
    // No allocation after this point: the views below stay attached.
    this.paddedNeurons = this.global('stride');
    this.weightsView = this.f32('weights', spec.inputs * this.paddedNeurons);
    this.thetaView = this.f32('theta', this.paddedNeurons);
    this.counts = new Int32Array(this.memory.buffer, this.global('counts'), n);
    this.imageView = new Uint8Array(this.memory.buffer, this.global('image'), spec.inputs);
    this.delaysView = delay ? new Uint8Array(this.memory.buffer, this.global('delays'), spec.inputs * this.paddedNeurons) : null;
    this.f32('preTraceTable', table.length).set(table);

    const stride = this.paddedNeurons;
    initWeights(this.weightsView, spec.inputs, n, stride, spec.dense.init, () => this.rng.nextFloat24());
    if (delay && this.delaysView) initDelays(this.delaysView, spec.inputs, n, stride, delay, dt, () => this.rng.nextFloat24());
    // BindsNET clamps the whole matrix at the first learning step: initial weights outside the
    // bounds are clamped when the first training sample starts.
    let outside = false;
    for (let i = 0; i < spec.inputs && !outside; i++)
      for (let j = 0, p = i * stride; j < n; j++, p++)
        if (this.weightsView[p] < spec.dense.wMin || this.weightsView[p] > spec.dense.wMax) outside = true;
    k.setFlags((outside ? 1 : 0) | 2);
    this.thetaView.fill(f(e.adaptive ? e.thetaInitMv : 0), 0, n);
    this.thetaView.fill(Infinity, n);
    k.resetState();
    if (shared) {
      try {
        for (let h = 1; h < this.threads; h++) {
          const w = new Worker(HELPER_SCRIPT, {
            eval: true,
            // A worker inherits the process's flags; with --input-type=module (a script given to
            // node -e or on stdin) the helper's script would be read as a module without require.
            execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
            name: `spikelab-engine-${h}`,
            workerData: { module, memory: shared, ctrl, index: h, failed: k.failedFlag() },
          });
          // An error is also raised in the kernel (FAILED); the event only must not go unhandled.
          w.on('error', () => {});
          w.unref();
          this.helpers.push(w);
        }
      } catch (e) {
        for (const w of this.helpers) void w.terminate();
        throw e;
      }
      orphanedHelpers.register(this, this.helpers, this);
    }
  }

  /** Threads this network runs on. */
  readonly threads: number;
  private readonly helpers: Worker[] = [];
  private helpersReady = false;
  private closed = false;

  /**
   * Thread 0 runs the next `jobs` jobs on the whole layer while the helpers sleep. The kernel
   * does this by itself when its helpers are not getting a core; results do not change.
   */
  runAlone(jobs: number): void {
    if (this.threads > 1) this.k.runAlone(jobs);
  }

  /** Jobs thread 0 still runs alone (0 on one thread). */
  get aloneJobsLeft(): number {
    return this.threads > 1 ? this.k.aloneLeft() : 0;
  }

  /** Ends the helper threads (a multi-threaded network); the network cannot run samples after it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.helpers.length === 0) return;
    orphanedHelpers.unregister(this);
    // Helpers that never started cannot hear the exit job.
    if (this.helpersReady) this.k.stopHelpers();
    else for (const w of this.helpers) void w.terminate();
  }

  private global(name: string): number {
    return (this.k[name] as WebAssembly.Global).value as number;
  }

  private f32(name: string, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.global(name), length);
  }

  private setLayer(which: 0 | 1, l: LifSpec, lockoutMs: number, thetaDecay: number, thetaPlus: number): void {
    const f = Math.fround;
    const dt = this.spec.dtMs;
    const c = l.synapse.type === 'conductance' ? l.synapse : null;
    this.k.setLayer(
      which,
      f(l.restMv),
      f(l.resetMv),
      f(l.thresholdMv),
      f(l.refractoryMs),
      f(lockoutMs),
      f(dt),
      decayFactor(dt, l.tauMs),
      thetaDecay,
      f(thetaPlus),
      c ? 1 : 0,
      f(dt / l.tauMs),
      c ? f(c.excReversalMv) : 0,
      c ? f(c.inhReversalMv) : 0,
      c ? decayFactor(dt, c.excTauMs) : 0,
      c ? decayFactor(dt, c.inhTauMs) : 0,
    );
  }

  /** Adaptive thresholds θ of the real (unpadded) neurons, as a view. */
  get theta(): Float32Array {
    return this.thetaView.subarray(0, this.neurons);
  }

  /** A copy of the weights as an unpadded row-major [inputs, neurons] matrix. */
  denseWeights(): Float32Array {
    const n = this.neurons;
    const s = this.paddedNeurons;
    const out = new Float32Array(this.inputs * n);
    for (let i = 0; i < this.inputs; i++) out.set(this.weightsView.subarray(i * s, i * s + n), i * n);
    return out;
  }

  setDenseWeights(w: Float32Array): void {
    const n = this.neurons;
    if (w.length !== this.inputs * n) throw new Error(`weights: expected ${this.inputs * n} values, got ${w.length}`);
    for (let i = 0; i < this.inputs; i++) this.weightsView.set(w.subarray(i * n, (i + 1) * n), i * this.paddedNeurons);
  }

  /** Extra delay D_ij in steps, unpadded row-major [inputs, neurons]; null without delays. */
  delays(): Uint8Array | null {
    if (!this.delaysView) return null;
    const n = this.neurons;
    const out = new Uint8Array(this.inputs * n);
    for (let i = 0; i < this.inputs; i++) out.set(this.delaysView.subarray(i * this.paddedNeurons, i * this.paddedNeurons + n), i * n);
    return out;
  }

  rngState(): Uint32Array {
    return this.rng.getState();
  }

  /**
   * Presents one sample — an image (intensities 0..255, encoded by the definition's encoder) or
   * a spike train — and returns the excitatory spikes; per-neuron counts are in `counts`. With
   * `learning`, plasticity, θ adaptation and normalization run. `extraRateHz` raises the
   * encoder's maximum rate (Diehl & Cook's re-presentation of samples that drew too few spikes).
   */
  runSample(input: Uint8Array | SpikeTrainInput, learning: boolean, rec: SampleRecording | null = null, extraRateHz = 0): number {
    const k = this.k;
    const bucket = input instanceof Uint8Array ? this.encode(input, extraRateHz) : this.loadSpikeTrain(input);
    const nVoltage = rec ? Math.min(rec.voltageNeurons.length, 16) : 0;
    if (rec) new Int32Array(this.memory.buffer, this.global('voltageNeurons'), 16).set(rec.voltageNeurons.slice(0, 16));
    if (this.helpers.length > 0) {
      if (this.closed) throw new Error('network closed: its helper threads have ended');
      if (!this.helpersReady) {
        k.awaitHelpers();
        this.helpersReady = true;
      }
    }
    const spikes = k.runSample(this.steps, bucket, learning ? 1 : 0, rec ? 1 : 0, nVoltage);
    this.excSpikes = spikes;
    if (rec) this.readRecording(rec, bucket, nVoltage);
    return spikes;
  }

  /** Encodes an image into the kernel's spike train; returns the bucket stride. */
  private encode(image: Uint8Array, extraRateHz: number): number {
    const k = this.k;
    const { type, maxRateHz } = this.spec.encoder;
    this.imageView.set(image.length === this.inputs ? image : image.subarray(0, this.inputs));
    if (type === 'latency') {
      this.inputSpikes = k.encodeLatency(this.inputs, this.steps);
    } else {
      this.loadTables(maxRateHz + extraRateHz);
      this.inputSpikes = k.encodeIntervals(this.inputs, this.steps);
    }
    return k.encodedActiveCount();
  }

  private loadTables(rateHz: number): void {
    if (rateHz === this.loadedRate) return;
    let t = this.tablesByRate.get(rateHz);
    if (!t) {
      const { type, } = this.spec.encoder;
      t = buildIntervalTables(type === 'bindsnet-poisson' ? 'bindsnet-poisson' : 'poisson', this.steps, this.spec.dtMs, rateHz);
      this.tablesByRate.set(rateHz, t);
    }
    new Float64Array(this.memory.buffer, this.global('cdf'), t.cdf.length).set(t.cdf);
    new Uint16Array(this.memory.buffer, this.global('guide'), 256 * GUIDE).set(t.guide);
    this.loadedRate = rateHz;
  }

  private loadSpikeTrain(train: SpikeTrainInput): number {
    if (train.steps !== this.steps) throw new Error(`spike train: expected ${this.steps} steps, got ${train.steps}`);
    let bucket = 0;
    let total = 0;
    for (let t = 0; t < this.steps; t++) {
      bucket = Math.max(bucket, train.count[t]);
      total += train.count[t];
    }
    if (total !== train.index.length) throw new Error('spike train: index length does not match the counts');
    if (bucket > this.inputs) throw new Error(`spike train: at most ${this.inputs} spikes per step`);
    const count = new Int32Array(this.memory.buffer, this.global('trainCount'), this.steps);
    const index = new Uint16Array(this.memory.buffer, this.global('trainIndex'), this.inputs * this.steps);
    count.set(train.count.subarray(0, this.steps));
    for (let t = 0, p = 0; t < this.steps; t++) {
      for (let r = 0; r < train.count[t]; r++, p++) {
        const i = train.index[p];
        if (i >= this.inputs) throw new Error(`spike train: input ${i} does not exist`);
        index[t * bucket + r] = i;
      }
    }
    this.inputSpikes = total;
    return bucket;
  }

  private readRecording(rec: SampleRecording, bucket: number, nVoltage: number): void {
    const buf = this.memory.buffer;
    const count = new Int32Array(buf, this.global('trainCount'), this.steps);
    const index = new Uint16Array(buf, this.global('trainIndex'), this.inputs * this.steps);
    for (let t = 0; t < this.steps; t++) for (let r = 0; r < count[t]; r++) rec.input.push(t, index[t * bucket + r]);
    const exc = new Int32Array(buf, this.global('recExc'), 2 * this.k.recordedExcCount());
    for (const x of exc) rec.excitatory.push(x);
    const inh = new Int32Array(buf, this.global('recInh'), 2 * this.k.recordedInhCount());
    for (const x of inh) rec.inhibitory.push(x);
    const volt = new Float32Array(buf, this.global('recVoltage'), this.steps * 16 * 2);
    for (let t = 0; t < this.steps; t++)
      for (let q = 0; q < nVoltage; q++) {
        rec.voltage.push(volt[(t * 16 + q) * 2]);
        rec.threshold.push(volt[(t * 16 + q) * 2 + 1]);
      }
  }

  getState(): NetworkState {
    const flags = this.k.flags();
    const state: NetworkState = {
      weights: this.denseWeights(),
      theta: this.theta.slice(),
      prng: this.rng.getState(),
      normalizeAll: (flags & 2) !== 0,
      needClamp: (flags & 1) !== 0,
    };
    if (this.carriedBytes > 0) {
      this.k.saveCarriedState(this.carriedPtr);
      state.carried = new Uint8Array(this.memory.buffer, this.carriedPtr, this.carriedBytes).slice();
    }
    return state;
  }

  setState(s: NetworkState): void {
    const n = this.neurons;
    this.setDenseWeights(s.weights);
    if (s.theta.length !== n) throw new Error(`theta: expected ${n} values, got ${s.theta.length}`);
    this.thetaView.set(s.theta);
    this.rng.setState(s.prng);
    this.k.setFlags((s.needClamp ? 1 : 0) | (s.normalizeAll ? 2 : 0));
    if (this.carriedBytes > 0 && s.carried) {
      if (s.carried.length !== this.carriedBytes) throw new Error('carried state: size does not match the network');
      new Uint8Array(this.memory.buffer, this.carriedPtr, this.carriedBytes).set(s.carried);
      this.k.loadCarriedState(this.carriedPtr);
    }
  }
}

/** A stand-alone stream of the network's generator, from `seed` (tests and tools). */
export function createRng(seed: number, module: WebAssembly.Module = loadKernelModule()): Prng {
  const instance = new WebAssembly.Instance(module, { env: { abort: () => { throw new Error('engine kernel aborted'); }, sleepWhile: noThreads, wake: noThreads } });
  const rng = new Prng(instance.exports as unknown as RngKernel);
  rng.seed(seed);
  return rng;
}

export async function createNetwork(spec: NetworkSpec, threads = 1): Promise<Network> {
  return new Network(spec, undefined, threads);
}
