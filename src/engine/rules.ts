/**
 * The learning rules of the dense input connection: for each, its definition schema (the public
 * contract, with units and docs) and how it maps onto the kernel's rule terms
 * (src/engine/assembly/plasticity.ts). docs/models.md gives every rule's equations.
 *
 * Adding a rule: an entry here (schema + `kernel` mapping), its terms in `depressionOf` /
 * `potentiationOf` of assembly/plasticity.ts under a new `RULE_…` constant of assembly/params.ts
 * (the name is looked up in the kernel's exports, so it is defined once), its case in the
 * reference (test/reference/simulator.ts), and a row in docs/models.md.
 */
import { z } from 'zod';

const rate = (d: number) => z.number().nonnegative().finite().default(d);
/** A time constant (ms): bounded so decay tables and traces stay finite in size. */
export const tau = (d: number) => z.number().min(0.01).max(1e9).default(d);

/** What the kernel needs of a rule: its id, coefficients and the traces it reads. */
export interface KernelRule {
  /** Name of the kernel's RULE_ constant. */
  kernelName: 'RULE_POST_PRE' | 'RULE_WEIGHT_DEPENDENT' | 'RULE_STDP' | 'RULE_DIEHL_COOK' | 'RULE_POWER_LAW';
  /** Depression coefficient (per presynaptic spike) and potentiation coefficient (per postsynaptic spike). */
  dep: number;
  pot: number;
  xTarget?: number;
  mu?: number;
  /** Input trace: time constant, and all-to-all (added) rather than nearest (set to 1). */
  preTauMs: number;
  preAdditive: boolean;
  /** First post trace (the depression's), and whether it adds; the second post trace (diehl-cook). */
  postTauMs: number;
  postAdditive: boolean;
  post2TauMs?: number;
}

/** The layers' trace time constants, which BindsNET's rules use. */
export interface LayerTraces {
  inputTraceTauMs: number;
  excitatoryTraceTauMs: number;
}

export const postPreRuleSchema = z
  .object({
    rule: z.literal('post-pre'),
    /** Depression rate on a presynaptic spike: w -= nuPre · postTrace. */
    nuPre: rate(1e-4),
    /** Potentiation rate on a postsynaptic spike: w += nuPost · preTrace. */
    nuPost: rate(1e-2),
  })
  .strict()
  .describe(
    "BindsNET's PostPre: a presynaptic spike depresses by nuPre·y (post trace), a postsynaptic spike potentiates by nuPost·x (input trace); traces use the layers' traceTauMs and are set to 1 on a spike.",
  );

export const weightDependentRuleSchema = z
  .object({ rule: z.literal('weight-dependent-post-pre'), nuPre: rate(1e-4), nuPost: rate(1e-2) })
  .strict()
  .describe("BindsNET's WeightDependentPostPre (soft bounds): w −= nuPre·y·(w − wMin), w += nuPost·x·(wMax − w).");

export const stdpRuleSchema = z
  .object({
    rule: z.literal('stdp'),
    aPlus: rate(0.01),
    aMinus: rate(0.0105),
    tauPlusMs: tau(20),
    tauMinusMs: tau(20),
    pairing: z.enum(['all-to-all', 'nearest']).default('all-to-all'),
  })
  .strict()
  .describe(
    'The classic exponential STDP window: Δw = +aPlus·e^(−Δt/τ+) for pre before post (Δt = t_post − t_pre ≥ 0), −aMinus·e^(Δt/τ−) for post before pre (ms). all-to-all: every pair counts (traces add); nearest: only the nearest spikes (traces set to 1).',
  );

export const diehlCookRuleSchema = z
  .object({
    rule: z.literal('diehl-cook'),
    nuPre: rate(1e-4),
    nuPost: rate(1e-2),
    tauPreMs: tau(20),
    tauPost1Ms: tau(20),
    tauPost2Ms: tau(40),
  })
  .strict()
  .describe(
    "Diehl & Cook's released rule: a presynaptic spike depresses by nuPre·y1; a postsynaptic spike potentiates by nuPost·x·y2, y2 (τ 40 ms) read before the spike resets it (no potentiation without an earlier postsynaptic spike). Traces set to 1 on a spike.",
  );

export const powerLawRuleSchema = z
  .object({
    rule: z.literal('power-law'),
    nu: rate(1e-2),
    xTarget: z.number().finite().default(0.4),
    mu: z.number().positive().max(10).default(0.2),
    tauPreMs: tau(20),
  })
  .strict()
  .describe(
    "The paper's power-law rule: a postsynaptic spike changes every input weight by nu·(x − xTarget)·(wMax − w)^mu (negative for inputs whose trace x is below xTarget); x adds 1 per input spike and decays with tauPreMs.",
  );

export const plasticitySchema = z.discriminatedUnion('rule', [
  postPreRuleSchema,
  weightDependentRuleSchema,
  stdpRuleSchema,
  diehlCookRuleSchema,
  powerLawRuleSchema,
]);

export type PlasticitySpec = z.output<typeof plasticitySchema>;

/** The kernel's view of a rule. */
export function kernelRule(rule: PlasticitySpec, traces: LayerTraces): KernelRule {
  const layerTraces = { preTauMs: traces.inputTraceTauMs, preAdditive: false, postTauMs: traces.excitatoryTraceTauMs, postAdditive: false };
  switch (rule.rule) {
    case 'post-pre':
      return { kernelName: 'RULE_POST_PRE', dep: rule.nuPre, pot: rule.nuPost, ...layerTraces };
    case 'weight-dependent-post-pre':
      return { kernelName: 'RULE_WEIGHT_DEPENDENT', dep: rule.nuPre, pot: rule.nuPost, ...layerTraces };
    case 'stdp': {
      const allToAll = rule.pairing === 'all-to-all';
      return { kernelName: 'RULE_STDP', dep: rule.aMinus, pot: rule.aPlus, preTauMs: rule.tauPlusMs, preAdditive: allToAll, postTauMs: rule.tauMinusMs, postAdditive: allToAll };
    }
    case 'diehl-cook':
      return {
        kernelName: 'RULE_DIEHL_COOK',
        dep: rule.nuPre,
        pot: rule.nuPost,
        preTauMs: rule.tauPreMs,
        preAdditive: false,
        postTauMs: rule.tauPost1Ms,
        postAdditive: false,
        post2TauMs: rule.tauPost2Ms,
      };
    case 'power-law':
      // No depression term; the post trace only tracks which neurons are active.
      return {
        kernelName: 'RULE_POWER_LAW',
        dep: 0,
        pot: rule.nu,
        xTarget: rule.xTarget,
        mu: rule.mu,
        preTauMs: rule.tauPreMs,
        preAdditive: true,
        postTauMs: traces.excitatoryTraceTauMs,
        postAdditive: false,
      };
  }
}
