// Load testing as a library: run a test, gate on it, probe capacity, read the capacity file.
export { runLoadTest, errorKind } from './engine.js';
export type { LoadModel, LoadTestOptions, LoadTestResult, Progress, RunHooks, StageResult, EndpointResult, GroupResult } from './engine.js';
export { findCapacity, readCapacityFile, writeCapacityFile, DEFAULT_CAPACITY_GATES } from './capacity.js';
export type { CapacityFile, CapacityStep, CapacityProbeOptions, CapacityProgress } from './capacity.js';
export { parseGate, parseGates, evaluateGates, interpret, INTERPRETATION } from './gates.js';
export type { Gate, GateResult, Reading, Level } from './gates.js';
export { parseStages, constantProfile, targetAt, ArrivalSchedule } from './profile.js';
export type { Stage, LoadProfile } from './profile.js';
export { planLoadTest, parseLoadTestFile, readLoadTestFile } from './config.js';
export type { LoadTestInput } from './config.js';
export { formatLoadTest, loadTestReport, formatCapacity, capacityReport } from './report.js';
export type { LatencySummary, TimelinePoint } from './stats.js';
export type { Endpoint, EndpointInput } from './target.js';
