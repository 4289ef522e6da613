// Capacity planning: growth, projections, sizing, phases and the dates limits are reached.
export { CapacityError } from './errors.js';
export { pyFixed, groupThousands } from './format.js';
export {
  describeGrowth,
  fitGrowth,
  growthMultiplier,
  monthsUntilMultiplier,
  toGrowthModel,
  validateGrowth,
  type FittedGrowth,
  type GrowthModel,
} from './growth.js';
export {
  addFractionalMonths,
  addMonths,
  CAPACITY_DEFAULTS,
  DEFAULT_SETUP_THRESHOLDS,
  formatCapacityProjection,
  isoDate,
  projectCapacity,
  recommendSetup,
  validateCapacityInput,
  type CapacityInput,
  type CapacityRow,
  type SetupAdvice,
  type SetupThresholds,
} from './projection.js';
export {
  DEFAULT_TIERS,
  headroom,
  limitWithHeadroom,
  requiredDbConnections,
  requiredInstances,
  requiredRedisGb,
  sizingTier,
  tokenQuota,
  type Headroom,
  type Tier,
  type TierBounds,
  type TierResult,
  type TokenQuota,
} from './sizing.js';
export { DEFAULT_PHASES, planPhases, type PhaseInput, type PhasePlan, type PhaseSpec } from './phases.js';
export { limitDates, type LimitInput, type LimitName, type LimitReach } from './limits.js';
