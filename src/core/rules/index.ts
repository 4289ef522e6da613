// Sustained-threshold rules: types, per-rule state, actions and the evaluation that picks one outcome.
export * from './types.js';
export { applyResize, applyScale, expandBand, validateBand, validateRule } from './actions.js';
export { breaches, DEFAULT_STALE_AFTER_MS, describeRuleState, ruleState, usableSamples } from './state.js';
export { clock, describeCondition, describeQuantity, describeStep } from './format.js';
export { evaluateRules } from './evaluate.js';
