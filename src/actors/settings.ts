import type { ResourceConfig } from '../contracts/resources.ts';
import type { WorkRegistry } from './work/work-state.ts';

/** The runtime settings services read (validated from the config by the composition root). */
export interface RuntimeSettings {
  heartbeatTimeoutMs: number;
  sessionIdleTimeoutMs: number;
  sessionMaxAgeMs: number;
  resources: ResourceConfig;
}

/** What services run with besides the unit of work: settings, the work state, and jitter. */
export interface ServiceEnv {
  settings: RuntimeSettings;
  work: WorkRegistry;
  /** In [0, 1): the jitter of retry backoff. */
  random: () => number;
}
