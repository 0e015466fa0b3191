/** The engine kernel's exports (compiled by `npm run build:kernel` to dist/kernel/engine.wasm). */
export * from './layout';
export { setLayer, setNetwork, setRule, RULE_POST_PRE, RULE_WEIGHT_DEPENDENT, RULE_STDP, RULE_DIEHL_COOK, RULE_POWER_LAW } from './params';
export { setRng, rngWord, seedRng, rngNext, below } from './prng';
export { encodeIntervals, encodeLatency, encodedActiveCount } from './encoder';
export {
  resetState, runSample, recordedExcCount, recordedInhCount, flags, setFlags, carriedStateBytes, saveCarriedState, loadCarriedState, scratch,
} from './network';
export { setThreads, adoptLayout, helperStart, helperStep, awaitHelpers, stopHelpers, failedFlag, runAlone, aloneLeft, MAX_THREADS } from './threads';
