import { createHash } from 'node:crypto';
import { OverseerError } from '../../core/errors.ts';
import type { EvidenceRecord, EvidenceSubmit } from '../../contracts/evidence.ts';
import type { ParsedTestReport } from '../../domain/workflow/parse-test-report.ts';
import type { Tx } from '../tx.ts';
import { artifactKey } from './transition.ts';

/** The `artifacts` store's record name of a gate's evidence from an executor elsewhere. */
export const evidenceRecord = (gate: string): string => `#evidence:${gate}`;

/** Evidence as the `artifacts` store keeps it: the record and the parsed report the gate reads. */
export interface StoredEvidence {
  v: 1;
  record: EvidenceRecord;
  report: ParsedTestReport;
  changedFiles: string[] | null;
}

/**
 * Records evidence sent by an executor elsewhere, for the job's current phase: only the worker holding the job's
 * lease may send it (its own credential), and it is kept as `verified`, naming that worker. The node cannot see
 * that tree, so this evidence is as trustworthy as the executor's separation from the agent (docs/security.md).
 */
export function recordEvidence(
  tx: Tx,
  workerId: string | undefined,
  input: EvidenceSubmit,
  report: ParsedTestReport,
): EvidenceRecord {
  const job = tx.get('job', input.jobId);
  if (workerId === undefined || job.context.workerId !== workerId)
    throw new OverseerError(
      'NOT_YOUR_WORKER',
      `Only the worker holding job ${input.jobId}'s lease sends its evidence, with its own credential.`,
      { jobId: input.jobId, ...(workerId === undefined ? {} : { workerId }) },
    );
  if (job.value !== 'RUNNING')
    throw new OverseerError(
      'LEASE_LOST',
      `Job ${input.jobId} is ${String(job.value)}: its lease has ended.`,
      {
        jobId: input.jobId,
        state: job.value,
      },
    );
  const phase = tx.find('phase', input.jobId);
  if (!phase || phase.value !== 'ACTIVE')
    throw new OverseerError(
      'INVALID_STATE_TRANSITION',
      `Job ${input.jobId} is in no active workflow phase.`,
      {
        kind: 'phase',
        id: input.jobId,
        state: phase?.value ?? null,
      },
    );
  const record: EvidenceRecord = {
    jobId: input.jobId,
    gate: input.gate,
    phase: phase.context.phase,
    epoch: phase.context.epoch,
    treeHash: input.treeHash,
    exitCode: input.exitCode,
    evidence: 'verified',
    executor: { workerId: job.context.workerId, name: input.executor ?? null },
    readable: report.ok,
    counts: report.ok ? report.result.counts : null,
    outputDigest: `sha256:${createHash('sha256').update(input.report).digest('hex')}`,
    at: tx.now,
  };
  const stored: StoredEvidence = { v: 1, record, report, changedFiles: input.changedFiles ?? null };
  tx.write({
    db: 'artifacts',
    key: artifactKey(tx.ws, input.jobId, evidenceRecord(input.gate), phase.context.epoch),
    value: stored,
  });
  return record;
}
