// Checks owned by other modules (metric sources, providers, HPA specs), run by the config loader.
import type { RawConfig } from './schema.js';
import type { Config } from './load.js';

export type Report = (path: Array<string | number>, message: string, fix?: string) => void;
export type ConfigValidator = (config: Config, raw: RawConfig, report: Report) => void;
