import type { ResourceConfig } from '../contracts/resources.ts';
import type { WorkflowRegistry } from './workflow-registry.ts';
import type { WorkRegistry } from './work/work-state.ts';

/** The runtime settings services read (validated from the config by the composition root). */
export interface RuntimeSettings {
  heartbeatTimeoutMs: number;
  sessionIdleTimeoutMs: number;
  sessionMaxAgeMs: number;
  resources: ResourceConfig;
  /** `workflow.workdirRoots`, each resolved to its real path at start. */
  workdirRoots: readonly string[];
}

/** What services run with besides the unit of work: settings, the work state, the workflows, and jitter. */
export interface ServiceEnv {
  settings: RuntimeSettings;
  work: WorkRegistry;
  /** The workflows registered in each workspace. */
  workflows: WorkflowRegistry;
  /** In [0, 1): the jitter of retry backoff. */
  random: () => number;
}
