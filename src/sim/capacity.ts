// Capacity per replica from a file saved by `scalepilot loadtest --find-capacity --save`.
import { InputError } from '../cli/output.js';
import type { CapacityMeasurement } from './setup.js';

export function readCapacity(path: string, configPath: string): CapacityMeasurement {
  throw new InputError(`${configPath}: ${path}: capacity files are not readable yet; set capacity.rpsPerReplica`);
}
