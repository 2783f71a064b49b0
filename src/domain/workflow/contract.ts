import type { GateSpec, Phase, Transition, Workflow } from '../../contracts/workflow.ts';
import type { PhaseToolPolicy } from '../../contracts/tool-policy.ts';

/** What the contract is rendered for: a job, the phase it is in, and the artifact schemas' required fields. */
export interface ContractFacts {
  workflow: Workflow;
  jobId: string;
  /** The job's current phase, or null before its first claim. */
  phase: string | null;
  /** The required top-level fields of an artifact's schema, or undefined when they cannot be told. */
  requiredFields: (artifact: string) => readonly string[] | undefined;
}

/** What each gate asks, in one line. */
const GATE_TEXT: Record<string, string> = {
  plan_has_acceptance_criteria: 'the `plan` has at least one non-empty acceptance criterion',
  tests_are_failing:
    'at least one test case fails, in a test file changed during this phase (a load error or no tests is an error, not a pass)',
  all_tests_pass: 'at least one test runs and none fails, on the tree being moved',
  no_blocking_issues: 'every review of the current round reports no blocking issue',
  changes_requested: 'a review of the current round requests changes',
};

const gateLine = (gate: GateSpec): string => {
  if (typeof gate === 'string') return `\`${gate}\`: ${GATE_TEXT[gate] ?? gate}`;
  if (gate.gate === 'command')
    return `\`command\` \`${gate.command}\`: the node runs it; it must ${gate.expect === 'fail' ? 'fail (non-zero exit)' : 'pass (exit 0)'}`;
  return `\`${gate.gate}\`: ${GATE_TEXT[gate.gate] ?? gate.gate}`;
};

const list = (items: readonly string[], none = 'none'): string =>
  items.length === 0 ? none : items.map((i) => `\`${i}\``).join(', ');

/** The first few items of a long list, and how many more there are. */
const some = (items: readonly string[], max = 8): string =>
  items.length <= max ? list(items) : `${list(items.slice(0, max))} and ${items.length - max} more`;

function toolLines(tools: PhaseToolPolicy): string[] {
  const lines = [`- Tools allowed: ${list(tools.allow)}; denied: ${list(tools.deny)}`];
  if (tools.ask.length > 0) lines.push(`- Tools that ask a human first: ${list(tools.ask)}`);
  lines.push(`- Any other tool: ${tools.default}`);
  lines.push(`- Writes allowed to: ${some(tools.write.allow)}`);
  if (tools.write.deny.length > 0) lines.push(`- Writes denied to: ${some(tools.write.deny)}`);
  lines.push(`- Commands allowed: ${some(tools.commands.allow)}`);
  return lines;
}

function artifactLine(name: string, facts: ContractFacts): string {
  const required = facts.requiredFields(name);
  return required === undefined
    ? `- \`${name}\` (the workflow's own schema)`
    : `- \`${name}\`: required fields ${list(required)}`;
}

function transitionLines(t: Transition, from: Phase): string[] {
  const artifacts = [...new Set([...from.artifacts, ...t.artifacts])];
  const head = `- **→ ${t.to}**${t.name === undefined ? '' : ` (\`${t.name}\`)`}: artifacts ${list(artifacts)}; evidence ${t.evidence === 'verified' ? '**verified** (the node runs the tests on your tree; a reported `test_result` does not count)' : 'reported (the artifacts you send)'}`;
  const gates = t.gates.length === 0 ? ['  - no gate'] : t.gates.map((g) => `  - gate ${gateLine(g)}`);
  return [head, ...gates];
}

function phaseSection(phase: Phase, index: number, facts: ContractFacts): string[] {
  const current = phase.id === facts.phase ? ' (current)' : '';
  const lines = [`### ${index + 1}. ${phase.id}${current}`, ''];
  if (phase.description !== '') lines.push(phase.description, '');
  if (phase.final) {
    lines.push('Final phase: reaching it completes the job.', '');
    return lines;
  }
  lines.push('Must produce:');
  lines.push(
    ...(phase.artifacts.length === 0 ? ['- nothing'] : phase.artifacts.map((a) => artifactLine(a, facts))),
  );
  lines.push('', 'Allows:', ...toolLines(phase.tools), '', 'Moves:');
  const out = facts.workflow.transitions.filter((t) => t.from === phase.id);
  lines.push(...out.flatMap((t) => transitionLines(t, phase)));
  const extra = [...new Set(out.flatMap((t) => t.artifacts))].filter((a) => !phase.artifacts.includes(a));
  if (extra.length > 0)
    lines.push('', 'Artifacts of those moves:', ...extra.map((a) => artifactLine(a, facts)));
  lines.push('');
  return lines;
}

/** The phases in the order an agent meets them: the initial one first, then as listed. */
function orderedPhases(workflow: Workflow): Phase[] {
  const initial = workflow.initial ?? workflow.phases[0]!.id;
  return [
    ...workflow.phases.filter((p) => p.id === initial),
    ...workflow.phases.filter((p) => p.id !== initial),
  ];
}

const HOW_TO_CALL = [
  '## How to call Overseer',
  '',
  'Send every token as `Authorization: Bearer <token>`, never in a URL. JSON fields are camelCase.',
  '',
  '- Claim: `POST /api/v1/tasks/claim` `{ agentId, capabilities? }` (or `queue.claim`) with your worker credential answers the job, its `lease`, a `phaseToken` (this phase) and a `checkToken` (for hooks; it lives as long as the lease).',
  '- Where you are: `GET /api/v1/state/snapshot` with the phase token: the task, its phase, what the phase allows, dependencies, blockers, artifacts so far.',
  '- Move: `POST /api/v1/tasks/transition` `{ currentPhase, targetPhase, artifacts }` with the phase token (`artifacts`: an object keyed by artifact name). It answers `{ allowed: true, phase, phaseToken }`: use the new token from then on, the old one answers 401 `PHASE_TOKEN_STALE`. Or `{ allowed: false, blockers: [{ gate, reason, details }] }`: fix what the blockers name and try again.',
  '- Refresh: `POST /api/v1/tokens/refresh` with the phase token (even expired) or your worker credential and `{ jobId }` answers a new phase token and check token while the lease lives. Refresh before the token expires; keep the lease alive with heartbeats (`POST /api/v1/workers/{id}/heartbeat` `{ leaseToken }`).',
  '- This contract: `GET /api/v1/jobs/{id}/contract`. NATS: the same commands on `overseer.cmd.<workspace>.<command>` (`queue.claim`, `state.snapshot`, `workflow.transition`, `tokens.refresh`, `workflow.contract`), the token in the `Authorization` header.',
  '- The job completes when it reaches the final phase; `queue.complete` before that answers 409 `WORKFLOW_INCOMPLETE`.',
];

/**
 * The contract of a job's workflow as Markdown for an agent's prompt: the phases in order, what each must produce
 * (artifacts with their schemas' required fields), what each allows (a summary of its tool policy), the gates of
 * each move and whether its evidence must be verified, and how to call Overseer (routes, tokens, refresh).
 *
 * @example
 * const text = renderContract({ workflow, jobId: 'job_1', phase: 'PLAN', requiredFields: () => undefined });
 */
export function renderContract(facts: ContractFacts): string {
  const { workflow } = facts;
  const phases = orderedPhases(workflow);
  const lines = [
    `# Workflow contract: ${workflow.name}@${workflow.version}`,
    '',
    `Job \`${facts.jobId}\`${facts.phase === null ? ' has not started its workflow yet.' : ` is in phase **${facts.phase}**.`} Phases in order: ${phases.map((p) => p.id).join(' → ')}.`,
    '',
  ];
  if (workflow.description !== '') lines.push(workflow.description, '');
  lines.push(
    `Enforcement: **${workflow.enforcement}** (${workflow.enforcement === 'strict' ? 'a move with blockers is refused' : 'a move with blockers is recorded with a warning and let through'}). A phase token lives ${workflow.token_expiry_seconds} s.`,
    '',
    '## Phases',
    '',
  );
  phases.forEach((phase, i) => lines.push(...phaseSection(phase, i, facts)));
  lines.push(...HOW_TO_CALL, '');
  return lines.join('\n');
}
