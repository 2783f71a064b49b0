import { createHash } from 'node:crypto';
import type { Workflow } from '../contracts/workflow.ts';
import type {
  RegisteredWorkflow,
  WorkflowSource,
  WorkflowListAnswer,
} from '../contracts/workflow-registry.ts';
import type { Key, Store } from '../store/store.ts';
import { canonicalJson } from './idempotency.ts';

/** The content of a workflow version: the checked workflow, its artifact schema files, and its text if any. */
export interface WorkflowContent {
  workflow: Workflow;
  schemas: Record<string, Record<string, unknown>>;
  yaml: string | null;
}

/** A shipped workflow (the `default`), checked at start, registered in every workspace without being stored. */
export interface BuiltinWorkflow extends WorkflowContent {
  digest: string;
}

/** One version as LMDB `meta` keeps it under `['workflow', ws, name, version]`. */
export interface StoredWorkflow extends WorkflowContent {
  /** The envelope's version. */
  v: 1;
  digest: string;
  source: WorkflowSource;
  putBy: string;
  putAt: number;
}

const PREFIX = 'workflow';

/** The LMDB key of one stored version. */
export const workflowKey = (ws: string, name: string, version: number): Key => [PREFIX, ws, name, version];

/** SHA-256 (hex) of the canonical JSON of `{ workflow, schemas }`: what makes two versions the same. */
export const workflowDigest = (content: Pick<WorkflowContent, 'workflow' | 'schemas'>): string =>
  createHash('sha256')
    .update(canonicalJson({ workflow: content.workflow, schemas: content.schemas }))
    .digest('hex');

/** A version of a workspace: one it stores, or a shipped one it does not store (yet). */
type Entry = { stored: StoredWorkflow } | { builtin: BuiltinWorkflow };

/**
 * The workflows of each workspace: the versions put there (loaded from LMDB on first use, changed in memory by
 * the unit of work that puts one, which undoes its change if it fails) with the shipped ones layered under them.
 * A stored version wins over a shipped one of the same name and version (the shipped `default` is stored once a
 * job of the workspace uses it, so a later package with other content for that version changes no job's rules).
 */
export class WorkflowRegistry {
  private readonly store: Store;
  private readonly builtins: ReadonlyMap<string, BuiltinWorkflow>;
  /** ws → name → version → stored version. */
  private readonly byWs = new Map<string, Map<string, Map<number, StoredWorkflow>>>();

  constructor(store: Store, builtins: readonly BuiltinWorkflow[]) {
    this.store = store;
    this.builtins = new Map(builtins.map((b) => [b.workflow.name, b]));
  }

  /** The version named, or the newest one; undefined when the workspace has none. */
  find(ws: string, name: string, version?: number): RegisteredWorkflow | undefined {
    // A named version (every transition's lookup) needs no list of versions.
    const v = version ?? this.versionsOf(ws, name).at(-1);
    if (v === undefined) return undefined;
    const entry = this.entry(ws, name, v);
    return entry && view(ws, name, v, entry);
  }

  /** Whether the version named is a shipped one the workspace has not stored. */
  isUnstoredBuiltin(ws: string, name: string, version: number): boolean {
    const entry = this.entry(ws, name, version);
    return entry !== undefined && 'builtin' in entry;
  }

  /** Every workflow of the workspace by name, with its versions (oldest first). */
  list(ws: string): WorkflowListAnswer['workflows'] {
    const names = new Set([...this.builtins.keys(), ...this.loaded(ws).keys()]);
    return [...names].sort().map((name) => {
      const versions = this.versionsOf(ws, name);
      const latest = versions.at(-1)!;
      return { name, versions, latest, description: this.find(ws, name, latest)!.workflow.description };
    });
  }

  /** Records a stored version in memory; answers the undo. */
  add(ws: string, stored: StoredWorkflow): () => void {
    const byName = this.loaded(ws);
    const { name, version } = stored.workflow;
    let versions = byName.get(name);
    if (!versions) {
      versions = new Map();
      byName.set(name, versions);
    }
    const before = versions.get(version);
    versions.set(version, stored);
    const map = versions;
    return () => {
      if (before) map.set(version, before);
      else map.delete(version);
      if (map.size === 0) byName.delete(name);
    };
  }

  /** Forgets memory (after a failed commit): it is loaded again from LMDB on next use. */
  reset(): void {
    this.byWs.clear();
  }

  private entry(ws: string, name: string, version: number): Entry | undefined {
    const stored = this.loaded(ws).get(name)?.get(version);
    if (stored) return { stored };
    const builtin = this.builtins.get(name);
    return builtin?.workflow.version === version ? { builtin } : undefined;
  }

  /** The versions of a name in the workspace, stored and shipped, ascending. */
  private versionsOf(ws: string, name: string): number[] {
    const versions = new Set(this.loaded(ws).get(name)?.keys());
    const builtin = this.builtins.get(name);
    if (builtin) versions.add(builtin.workflow.version);
    return [...versions].sort((a, b) => a - b);
  }

  private loaded(ws: string): Map<string, Map<number, StoredWorkflow>> {
    let byName = this.byWs.get(ws);
    if (byName) return byName;
    byName = new Map();
    for (const { key, value } of this.store.range('meta', {
      start: [PREFIX, ws],
      end: [PREFIX, ws, '\uffff'],
    })) {
      const name = key[2] as string;
      let versions = byName.get(name);
      if (!versions) {
        versions = new Map();
        byName.set(name, versions);
      }
      versions.set(key[3] as number, value as StoredWorkflow);
    }
    this.byWs.set(ws, byName);
    return byName;
  }
}

/** The public shape of a version. */
function view(ws: string, name: string, version: number, entry: Entry): RegisteredWorkflow {
  const common = { workspaceId: ws, name, version };
  if ('builtin' in entry) {
    const { workflow, schemas, yaml, digest } = entry.builtin;
    return { ...common, digest, source: 'builtin', putBy: null, putAt: null, workflow, schemas, yaml };
  }
  const { workflow, schemas, yaml, digest, source, putBy, putAt } = entry.stored;
  return { ...common, digest, source, putBy, putAt, workflow, schemas, yaml };
}
