import type {
  EnforcementMode,
  Transition,
  TransitionBlocker,
  TransitionDecision,
  Trigger,
  Workflow,
} from '../../contracts/workflow.ts';
import { builtinValidator, type ArtifactValidator } from './artifact-validation.ts';
import { evaluateGate, type GateResult, type WorkflowEvidence } from './evaluate-gate.ts';

/** A request to move a job from one phase to another, with everything the decision reads. */
export interface TransitionRequest {
  workflow: Workflow;
  from: string;
  to: string;
  /** The current review round: 0 before the first entry into a reviewing phase. */
  round: number;
  /** The artifacts submitted, by name (`plan`, `test_result`, …). */
  artifacts: Readonly<Record<string, unknown>>;
  evidence: WorkflowEvidence;
  /** Overrides the workflow's `enforcement`. */
  mode?: EnforcementMode;
  /** Validators of the workflow's own artifact schemas (`compileArtifactSchema`), by artifact name. */
  validators?: Readonly<Record<string, ArtifactValidator>>;
}

/** The decision and what follows from it. */
export interface TransitionPlan extends TransitionDecision {
  from: string;
  to: string;
  mode: EnforcementMode;
  /** Every gate's result, passed ones included. */
  gates: GateResult[];
  /** The target phase is final: the workflow ends there. */
  final: boolean;
  /** The review round after the move (one more on entering a reviewing phase). */
  round: number;
  /** The triggers to fire on entering the target phase. */
  triggers: Trigger[];
}

/** A reviewing phase is one a `spawn_reviews` trigger fires on. */
export const isReviewPhase = (w: Workflow, phase: string): boolean =>
  w.triggers.some((t) => t.on_enter === phase);

/** The declared transition from → to, if any. */
export const findTransition = (w: Workflow, from: string, to: string): Transition | undefined =>
  w.transitions.find((t) => t.from === from && t.to === to);

function artifactBlockers(req: TransitionRequest, names: string[]): TransitionBlocker[] {
  const blockers: TransitionBlocker[] = [];
  for (const name of names) {
    const value = req.artifacts[name];
    if (value === undefined) {
      blockers.push({ gate: 'artifact', reason: `missing artifact ${name}`, details: { artifact: name } });
      continue;
    }
    const validate = builtinValidator(name) ?? req.validators?.[name];
    if (!validate) {
      blockers.push({
        gate: 'artifact',
        reason: `artifact ${name} has no schema to check it against`,
        details: { artifact: name },
      });
      continue;
    }
    const [first, ...rest] = validate(value);
    if (first)
      blockers.push({
        gate: 'artifact',
        reason: `artifact ${name} is invalid at ${first.field}: ${first.message}`,
        details: { artifact: name, field: first.field, message: first.message, more: rest },
      });
  }
  return blockers;
}

/**
 * Decides a phase transition (pure): the transition must be declared; the phase's and the transition's artifacts
 * must be present and valid; every gate must pass; entering a reviewing phase past `max_review_rounds` is
 * blocked. `strict` refuses on any blocker; `permissive` lets it through with `warned: true` (journal a `warn`
 * event). An undeclared transition is refused in both modes.
 */
export function planTransition(req: TransitionRequest): TransitionPlan {
  const { workflow: w, from, to } = req;
  const mode = req.mode ?? w.enforcement;
  const phase = w.phases.find((p) => p.id === from);
  const target = w.phases.find((p) => p.id === to);
  const transition = findTransition(w, from, to);
  const base = { from, to, mode, gates: [], final: target?.final ?? false, round: req.round, triggers: [] };
  if (!phase || !target || !transition) {
    const declared = w.transitions.filter((t) => t.from === from).map((t) => t.to);
    return {
      ...base,
      allowed: false,
      warned: false,
      blockers: [
        {
          gate: 'transition',
          reason: !phase
            ? `unknown phase ${from}`
            : !target
              ? `unknown phase ${to}`
              : `${w.name} v${w.version} has no transition ${from} → ${to}`,
          details: { from, to, allowedTargets: declared },
        },
      ],
    };
  }
  const required = [...new Set([...phase.artifacts, ...transition.artifacts])];
  const blockers = artifactBlockers(req, required);
  const gates = transition.gates.map((spec) =>
    evaluateGate(spec, {
      workflow: w,
      phase,
      evidence: transition.evidence,
      round: req.round,
      artifacts: req.artifacts,
      facts: req.evidence,
    }),
  );
  for (const g of gates)
    if (g.outcome !== 'pass')
      blockers.push({ gate: g.gate, reason: g.reason, details: { outcome: g.outcome, ...g.details } });
  const entersReview = isReviewPhase(w, to);
  const round = entersReview ? req.round + 1 : req.round;
  if (entersReview && round > w.max_review_rounds)
    blockers.push({
      gate: 'max_review_rounds',
      reason: `review round ${round} would exceed max_review_rounds ${w.max_review_rounds}`,
      details: { round, max: w.max_review_rounds },
    });
  const allowed = blockers.length === 0 || mode === 'permissive';
  return {
    ...base,
    gates,
    blockers,
    allowed,
    warned: allowed && blockers.length > 0,
    round: allowed ? round : req.round,
    triggers: allowed ? w.triggers.filter((t) => t.on_enter === to) : [],
  };
}
