// The HorizontalPodAutoscaler decision engine: parse a request, compute per-metric proposals, normalize them with
// stabilization and rate limits, and print the contract response. The primitives are exported for reuse.
export * from './types.js';
export { HpaInputError, parseBehavior, parseHpaRequest, parseMetricSpecs } from './parse.js';
export { computeMetricProposal, computeMetricProposals, describeMetric, formatLabelSelector } from './metrics.js';
export { finalizeReplicas, rescaledMessage, withInitialRecommendation } from './finalize.js';
export { evaluateHpa, toContractResponse, type ContractMetric, type ContractResponse } from './evaluate.js';
export {
  LIMIT_MESSAGES,
  STABILIZATION_MESSAGES,
  completeBehavior,
  defaultScaleDownRules,
  defaultScaleUpRules,
  isWithinTolerance,
  legacyScaleUpLimit,
  limitLegacy,
  limitWithBehavior,
  longestPolicyPeriod,
  recordRecommendation,
  recordScaleEvent,
  replicasChangeInPeriod,
  scaleDownLimitWithRules,
  scaleUpLimitWithRules,
  stabilizeLegacy,
  stabilizeWithBehavior,
  tolerancesFor,
  type Limited,
  type Tolerances,
} from './behavior.js';
export {
  averageValueTargetReplicas,
  ceilReplicas,
  cpuSampleUnready,
  externalTotal,
  perPodTargetReplicas,
  plainMetricReplicas,
  readyPodCount,
  resourceUtilizationReplicas,
  truncDiv,
  usageRatioReplicas,
  valueTargetReplicas,
  type CalcResult,
  type PodTiming,
} from './calc.js';
