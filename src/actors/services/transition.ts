import { createHash } from 'node:crypto';
import { OverseerError } from '../../core/errors.ts';
import type { PhaseTokenClaims } from '../../contracts/phase-tokens.ts';
import type { TransitionBlocker } from '../../contracts/workflow.ts';
import { checkPhaseClaims } from '../../domain/workflow/check-phase-claims.ts';
import type { WorkflowEvidence } from '../../domain/workflow/evaluate-gate.ts';
import { isReviewPhase, planTransition } from '../../domain/workflow/plan-transition.ts';
import type { ArtifactRecord } from '../../machines/phase.ts';
import { canonicalJson } from '../idempotency.ts';
import type { Tx } from '../tx.ts';
import { artifactValidators, phaseFacts, workflowOf } from './phases.ts';
import { completeHeld } from './queue.ts';
import { reviewSpawnBlockers, roundReviews, spawnReviews, supersedeReviews } from './reviews.ts';

/** An artifact body as the `artifacts` store keeps it under `[ws, jobId, name, epoch]`. */
export interface StoredArtifact {
  v: 1;
  body: unknown;
  digest: string;
  phase: string;
}

/** The `artifacts` store name under which the tree a phase was entered on is kept (`#` starts no artifact name). */
export const TREE_RECORD = '#tree';

/** The key of an artifact body in the `artifacts` store. */
export const artifactKey = (ws: string, jobId: string, name: string, epoch: number) => [
  ws,
  jobId,
  name,
  epoch,
];

/** `sha256:<hex>` of an artifact's canonical JSON. */
export const artifactDigest = (body: unknown): string =>
  `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;

/** A transition request as the unit of work takes it: the caller's token, the move, and what was read before. */
export interface PhaseTransition {
  claims: PhaseTokenClaims;
  jobId: string;
  currentPhase: string;
  targetPhase: string;
  /** The artifacts submitted with the request, by name. */
  artifacts: Readonly<Record<string, unknown>>;
  /** The bodies of the artifacts handed in earlier (read before the unit of work), by name. */
  stored: Readonly<Record<string, unknown>>;
  /** Verified facts gathered before the unit of work (the node's test run, the tree hash, changed files). */
  evidence: WorkflowEvidence;
}

/** What a transition decided (its phase token is minted after the commit). */
export interface TransitionOutcome {
  allowed: boolean;
  blockers: TransitionBlocker[];
  warned: boolean;
  phase?: string;
  epoch?: number;
  final?: boolean;
}

/**
 * Moves a job to another phase of its workflow in one unit of work: the token must fit the job now
 * (`checkPhaseClaims`), `currentPhase` must be its phase (else INVALID_STATE_TRANSITION), and `planTransition`
 * decides on the stored and submitted artifacts and the evidence. A refused move changes nothing; an allowed one
 * stores the submitted artifacts with their digests, moves the phase actor (journaled `from → to`, `warn` when
 * permissive mode let blockers through) and, into a final phase, completes the job in the same commit. In a
 * reviewing phase the gates read the round's review jobs (`roundReviews`); leaving it cancels the open ones;
 * entering it spawns the trigger's review jobs (`spawnReviews`), or is blocked when they could not be (depth, quota).
 */
export function transitionPhase(tx: Tx, req: PhaseTransition): TransitionOutcome {
  const facts = phaseFacts(tx, req.jobId);
  checkPhaseClaims(req.claims, facts);
  const phase = tx.get('phase', req.jobId).context;
  if (req.currentPhase !== phase.phase)
    throw new OverseerError(
      'INVALID_STATE_TRANSITION',
      `Job ${req.jobId} is in phase ${phase.phase}, not ${req.currentPhase}.`,
      {
        kind: 'phase',
        id: req.jobId,
        state: phase.phase,
        currentPhase: phase.phase,
        requested: req.currentPhase,
      },
    );
  const workflow = workflowOf(tx, phase.workflow);
  const artifacts = { ...req.stored, ...req.artifacts };
  // In a reviewing phase the review gates read only what the round's review jobs handed in, never an artifact.
  const reviewing = isReviewPhase(workflow, phase.phase);
  const round = reviewing ? roundReviews(tx, req.jobId, phase.round) : undefined;
  const plan = planTransition({
    workflow,
    from: phase.phase,
    to: req.targetPhase,
    round: phase.round,
    artifacts,
    evidence: round ? { ...req.evidence, reviews: round.reviews, lostReviews: round.lost } : req.evidence,
    validators: artifactValidators(tx, phase.workflow),
  });
  if (!plan.allowed) return { allowed: false, blockers: plan.blockers, warned: false };
  // Review jobs that could never be spawned or run block the move into review (strict), or are warned about.
  const spawnBlockers = reviewSpawnBlockers(tx, req.jobId, plan.triggers);
  if (spawnBlockers.length > 0 && plan.mode === 'strict')
    return { allowed: false, blockers: [...plan.blockers, ...spawnBlockers], warned: false };
  const blockers = [...plan.blockers, ...spawnBlockers];
  const warned = blockers.length > 0;
  const records: Record<string, ArtifactRecord> = {};
  for (const [name, body] of Object.entries(req.artifacts)) {
    const digest = artifactDigest(body);
    const stored: StoredArtifact = { v: 1, body, digest, phase: phase.phase };
    tx.write({ db: 'artifacts', key: artifactKey(tx.ws, req.jobId, name, phase.epoch), value: stored });
    records[name] = { digest, phase: phase.phase, epoch: phase.epoch, at: tx.now };
  }
  tx.send(
    [
      {
        kind: 'phase',
        id: req.jobId,
        event: {
          type: 'TRANSITION',
          at: tx.now,
          to: plan.to,
          move: {
            workflow: phase.workflow,
            epoch: phase.epoch,
            from: plan.from,
            to: plan.to,
            allowed: plan.allowed,
            final: plan.final,
            round: plan.round,
          },
          artifacts: records,
          gates: plan.gates.map((g) => ({ gate: g.gate, outcome: g.outcome, reason: g.reason })),
          warned,
        },
      },
    ],
    warned ? { severity: 'warn', reason: blockers.map((b) => `${b.gate}: ${b.reason}`).join('; ') } : {},
  );
  if (reviewing && plan.to !== plan.from) supersedeReviews(tx, req.jobId, phase.round);
  if (spawnBlockers.length === 0)
    for (const trigger of plan.triggers)
      spawnReviews(tx, req.jobId, plan.round, trigger, artifacts['implementation']);
  if (req.evidence.treeHash !== undefined)
    tx.write({
      db: 'artifacts',
      key: artifactKey(tx.ws, req.jobId, TREE_RECORD, phase.epoch + 1),
      value: { v: 1, tree: req.evidence.treeHash },
    });
  if (plan.final) completeHeld(tx, req.jobId);
  return {
    allowed: true,
    blockers,
    warned,
    phase: plan.to,
    epoch: phase.epoch + 1,
    final: plan.final,
  };
}
