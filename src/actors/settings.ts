import type { ResourceConfig } from '../contracts/resources.ts';
import type { ParsedTestReport } from '../domain/workflow/parse-test-report.ts';
import type { Tx } from './tx.ts';
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
  /** `workflow.commands`: the node's command allowlist, name → argv. */
  workflowCommands: Readonly<Record<string, readonly string[]>>;
  /** The data directory (the executor never runs in, under or above it). */
  dataDir: string;
}

/**
 * The trusted executor (`src/executor`), handed in by the composition root: the node's own test runs and tree
 * hashes on a job's working tree, for verified evidence.
 */
export interface TrustedExecutor {
  /** Runs a test command (argv, no shell) in a workdir under the roots; the tree it ran on and the parsed report. */
  verifyTests: (options: {
    cwd: string;
    command: readonly [string, ...string[]];
    workdirRoots: readonly string[];
    dataDir: string;
    timeoutMs: number;
    outputCapBytes: number;
    clock: { now(): number };
  }) => Promise<{ treeHash: string; report: ParsedTestReport }>;
  /** The content hash of a working tree. */
  treeHash: (dir: string) => Promise<string>;
  /** The files that differ between two trees of the same repository. */
  changedFiles: (dir: string, fromTree: string, toTree: string) => Promise<string[]>;
  /** The real path of a workdir under the roots (VALIDATION_FAILED otherwise). */
  resolveWorkdir: (cwd: string, roots: readonly string[], dataDir: string) => Promise<string>;
}

/** What services run with besides the unit of work: settings, the work state, the workflows, and jitter. */
export interface ServiceEnv {
  settings: RuntimeSettings;
  work: WorkRegistry;
  /** The workflows registered in each workspace. */
  workflows: WorkflowRegistry;
  /** In [0, 1): the jitter of retry backoff. */
  random: () => number;
  /** The trusted executor (none: verified evidence is never available on this node). */
  executor?: TrustedExecutor;
  /**
   * Runs in the unit of work when a child job ends while its parent is not final (the composition root hands in
   * the workflow's replacement of a lost review job).
   */
  childEnded?: (tx: Tx, childId: string) => void;
}
