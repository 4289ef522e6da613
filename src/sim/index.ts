// The simulator as a library: replay a trace through a policy, compare policies against the clairvoyant bound,
// tune HPA parameters, and run many services over worker threads.
export { runSimulation, loadVariant, type SimulateRequest, type SimulationReport, type ServiceRun } from './run.js';
export { simulateService, type DecideFn, type SimulateOptions } from './engine.js';
export { clairvoyantBound, distanceFromBound, type VsBound } from './bound.js';
export { tunePolicy, tuneParams, serviceSnippet, type TuneResult, type TuneOptions, type Candidate } from './tune.js';
export { simulateMany, runInline, SimPool, type SimTask, type RunOptions } from './pool.js';
export { resolveSetup, startReplicas, guessSignal, parseMetricSignals, RPS_PER_CORE } from './setup.js';
export { alignTrace, GAP_TREATMENT, type AlignReport, type TraceGap } from './align.js';
export { readTrace, seriesFor, type TraceInput } from './input.js';
export { Workload, neededReplicas, utilizationOf, p95Of, sloFlags } from './workload.js';
export { renderText, renderHtml, toMachine } from './report.js';
export * from './types.js';
