import type { Job, JobStatus } from '../contracts/job.ts';
import type { PhaseView } from '../contracts/phase-view.ts';
import type { Worker, WorkerStatus } from '../contracts/worker.ts';
import type { Session, SessionStatus } from '../contracts/session.ts';
import type { EntityKind } from '../contracts/journal.ts';
import type { SnapshotOf } from '../machines/registry.ts';

/** The parts of a kind's snapshot a view reads: its state and its typed context. */
export interface Viewable<K extends EntityKind> {
  value: unknown;
  context: SnapshotOf<K>['context'];
}

/** The public shape of a job. */
export function jobView(s: Viewable<'job'>): Job {
  const c = s.context;
  const { spec } = c;
  return {
    id: c.id,
    workspaceId: c.workspaceId,
    status: s.value as JobStatus,
    title: spec.title,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    type: spec.type,
    priority: spec.priority,
    ...(spec.repositoryUrl !== undefined ? { repositoryUrl: spec.repositoryUrl } : {}),
    ...(spec.branchName !== undefined ? { branchName: spec.branchName } : {}),
    parentJobId: spec.parentJobId ?? null,
    dependsOn: spec.dependsOn,
    capabilities: spec.capabilities,
    resources: spec.resources,
    workerCount: spec.workerCount,
    execution: spec.execution,
    leaseSeconds: spec.leaseSeconds,
    failParentOnFailure: spec.failParentOnFailure,
    ...(spec.metadata !== undefined ? { metadata: spec.metadata } : {}),
    depth: c.depth,
    taskId: c.taskId,
    workstreamId: c.workstreamId,
    workflow: c.workflow,
    retryCount: c.retryCount,
    workerId: c.workerId,
    leaseExpiresAt: c.leaseExpiresAt,
    lastError: c.lastError,
    ...(c.result !== undefined ? { result: c.result } : {}),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** The public shape of a worker. */
export function workerView(s: Viewable<'worker'>): Worker {
  const c = s.context;
  return {
    id: c.id,
    workspaceId: c.workspaceId,
    status: s.value as WorkerStatus,
    name: c.name,
    capabilities: c.capabilities,
    ...(c.metadata !== undefined ? { metadata: c.metadata } : {}),
    jobId: c.jobId,
    draining: c.draining,
    lastHeartbeatAt: c.lastHeartbeatAt,
    lastError: c.lastError,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** The public shape of a session. */
export function sessionView(s: Viewable<'session'>): Session {
  const c = s.context;
  return {
    id: c.id,
    workspaceId: c.workspaceId,
    status: s.value as SessionStatus,
    workerId: c.workerId,
    jobId: c.jobId,
    externalId: c.externalId,
    ...(c.metadata !== undefined ? { metadata: c.metadata } : {}),
    lastActivityAt: c.lastActivityAt,
    endedReason: c.endedReason,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** The public shape of a phase actor. */
export function phaseView(s: Viewable<'phase'>): PhaseView {
  const c = s.context;
  return {
    name: c.workflow.name,
    version: c.workflow.version,
    phase: c.phase,
    status: s.value as PhaseView['status'],
    epoch: c.epoch,
    round: c.round,
    artifacts: c.artifacts,
    lastGates: c.lastGates,
    warned: c.warned,
  };
}
