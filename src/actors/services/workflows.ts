import { OverseerError } from '../../core/errors.ts';
import {
  parseWorkflowRef,
  type RegisteredWorkflow,
  type WorkflowId,
  type WorkflowPut,
} from '../../contracts/workflow-registry.ts';
import { checkWorkflowPut } from '../../domain/workflow/check-workflow-put.ts';
import type { Tx } from '../tx.ts';
import {
  workflowDigest,
  workflowKey,
  type StoredWorkflow,
  type WorkflowContent,
} from '../workflow-registry.ts';

/** Stores a version in the unit of work: in memory now (undone if the unit fails), in LMDB with its commit. */
function store(tx: Tx, content: WorkflowContent, digest: string, source: StoredWorkflow['source']): void {
  const stored: StoredWorkflow = {
    v: 1,
    ...content,
    digest,
    source,
    putBy: tx.principal,
    putAt: tx.now,
  };
  const { name, version } = content.workflow;
  tx.onRevert(tx.env.workflows.add(tx.ws, stored));
  tx.write({ db: 'meta', key: workflowKey(tx.ws, name, version), value: stored });
}

/**
 * Registers a workflow version in the workspace. A version never changes: the same name and version with other
 * content answers `ALREADY_EXISTS`; the same content answers the version as registered (nothing is written).
 */
export function putWorkflow(tx: Tx, input: WorkflowPut): RegisteredWorkflow {
  const content = checkWorkflowPut(input);
  const { name, version } = content.workflow;
  const digest = workflowDigest(content);
  const existing = tx.env.workflows.find(tx.ws, name, version);
  if (existing) {
    if (existing.digest === digest) return existing;
    throw new OverseerError(
      'ALREADY_EXISTS',
      `Workflow ${name} version ${version} exists already with other content (digest ${existing.digest}); a version never changes: put it as version ${(tx.env.workflows.find(tx.ws, name)?.version ?? version) + 1}.`,
      { name, version, digest: existing.digest },
    );
  }
  store(tx, content, digest, 'workspace');
  return tx.env.workflows.find(tx.ws, name, version)!;
}

/**
 * The version a job follows: the one named, or the newest; `WORKFLOW_NOT_FOUND` when the workspace has none. A
 * shipped version is stored the first time a job of the workspace follows it, so the job keeps its content.
 */
export function resolveWorkflow(tx: Tx, ref: string): WorkflowId {
  const { name, version } = parseWorkflowRef(ref);
  const registry = tx.env.workflows;
  const found = registry.find(tx.ws, name, version);
  if (!found) {
    const known = registry.list(tx.ws).find((w) => w.name === name);
    throw new OverseerError(
      'WORKFLOW_NOT_FOUND',
      known
        ? `Workflow ${name} has no version ${String(version)} in workspace ${tx.ws} (it has ${known.versions.join(', ')}).`
        : `No workflow ${name} in workspace ${tx.ws}.`,
      { workflow: ref, name, ...(version !== undefined ? { version } : {}), versions: known?.versions ?? [] },
    );
  }
  if (registry.isUnstoredBuiltin(tx.ws, name, found.version)) {
    const { workflow, schemas, yaml, digest } = found;
    store(tx, { workflow, schemas, yaml }, digest, 'builtin');
  }
  return { name, version: found.version };
}
