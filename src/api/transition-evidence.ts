import { OverseerError } from '../core/errors.ts';
import type { Workflow } from '../contracts/workflow.ts';
import type { WorkflowEvidence } from '../domain/workflow/evaluate-gate.ts';
import { findTransition } from '../domain/workflow/plan-transition.ts';
import { artifactKey, TREE_RECORD } from '../actors/services/transition.ts';
import { evidenceRecord, type StoredEvidence } from '../actors/services/evidence.ts';
import type { CommandContext } from './command.ts';

/** How long the node's own test run may take, and how much of its output is kept. */
const TEST_TIMEOUT_MS = 10 * 60_000;
const TEST_OUTPUT_CAP_BYTES = 1 << 20;
const TEST_GATES = new Set(['tests_are_failing', 'all_tests_pass']);

/** Whether the move from → to has a test gate that needs the node's own (verified) test run. */
export function needsVerifiedRun(w: Workflow, from: string, to: string): boolean {
  const t = findTransition(w, from, to);
  if (!t) return false;
  return t.gates.some((spec) => {
    const g = typeof spec === 'string' ? { gate: spec } : spec;
    if (!TEST_GATES.has(g.gate)) return false;
    const own = 'evidence' in g ? g.evidence : undefined;
    return (own ?? t.evidence) === 'verified';
  });
}

/**
 * What the gates of a move judge besides artifacts, gathered before its unit of work: for a job with a workdir,
 * the tree being moved and the files changed since the phase was entered; and where a test gate needs verified
 * evidence, the node's own run of the workflow's `test_command` (an argv from the node's `workflow.commands`).
 * Without a workdir or an allowlisted command the gate errors, naming why.
 */
export async function gatherEvidence(
  ctx: CommandContext,
  job: { id: string; workdir: string | undefined },
  workflow: Workflow,
  phase: { phase: string; epoch: number },
  to: string,
  artifacts: Readonly<Record<string, unknown>> = {},
): Promise<WorkflowEvidence> {
  const verified = needsVerifiedRun(workflow, phase.phase, to);
  const { settings, executor } = ctx.host.env;
  // Where the node cannot run the tests itself, evidence sent by the lease holder's executor for this phase counts.
  const sent = () => (verified ? sentEvidence(ctx, job.id, workflow, phase, to, artifacts) : undefined);
  if (!executor) return sent() ?? (verified ? { noTestRun: 'this node runs no trusted executor' } : {});
  const { changedFiles, resolveWorkdir, treeHash, verifyTests } = executor;
  if (job.workdir === undefined)
    return sent() ?? (verified ? { noTestRun: 'the job names no execution.workdir on this node' } : {});
  const facts: WorkflowEvidence = {};
  const base = ctx.host.store.get('artifacts', [ctx.ws, job.id, TREE_RECORD, phase.epoch]) as
    { tree: string } | undefined;
  if (verified) {
    const argv = settings.workflowCommands[workflow.test_command];
    if (!argv || argv.length === 0)
      return (
        sent() ?? {
          noTestRun: `the test command ${workflow.test_command} is not in this node's workflow.commands allowlist`,
        }
      );
    try {
      const run = await verifyTests({
        cwd: job.workdir,
        command: argv as [string, ...string[]],
        workdirRoots: settings.workdirRoots,
        dataDir: settings.dataDir,
        timeoutMs: TEST_TIMEOUT_MS,
        outputCapBytes: TEST_OUTPUT_CAP_BYTES,
        clock: ctx.host.clock,
      });
      facts.testRun = { report: run.report, treeHash: run.treeHash };
      facts.treeHash = run.treeHash;
    } catch (err) {
      if (!(err instanceof OverseerError)) throw err;
      return { noTestRun: err.message };
    }
  } else {
    try {
      facts.treeHash = await treeHash(
        await resolveWorkdir(job.workdir, settings.workdirRoots, settings.dataDir),
      );
    } catch {
      return facts;
    }
  }
  if (base && facts.treeHash !== undefined)
    facts.changedFiles = await changedFiles(job.workdir, base.tree, facts.treeHash);
  return facts;
}

/**
 * The evidence an executor elsewhere sent (`workflow.evidence`) for this move's test gate in this phase, as the gate
 * reads it: its report on its tree, and the tree being moved — the `tree_hash` the agent's artifacts name, else the
 * evidence's own (evidence taken on another tree than the one moved does not count: `all_tests_pass` fails).
 */
function sentEvidence(
  ctx: CommandContext,
  jobId: string,
  workflow: Workflow,
  phase: { phase: string; epoch: number },
  to: string,
  artifacts: Readonly<Record<string, unknown>>,
): WorkflowEvidence | undefined {
  const gates = testGatesOf(workflow, phase.phase, to);
  for (const gate of gates) {
    const stored = ctx.host.store.get(
      'artifacts',
      artifactKey(ctx.ws, jobId, evidenceRecord(gate), phase.epoch),
    ) as StoredEvidence | undefined;
    if (!stored) continue;
    const named = treeNamed(artifacts);
    return {
      testRun: { report: stored.report, treeHash: stored.record.treeHash },
      treeHash: named ?? stored.record.treeHash,
      ...(stored.changedFiles ? { changedFiles: stored.changedFiles } : {}),
    };
  }
  return undefined;
}

/** The test gates of the move from → to. */
function testGatesOf(w: Workflow, from: string, to: string): string[] {
  const t = findTransition(w, from, to);
  return (t?.gates ?? [])
    .map((spec) => (typeof spec === 'string' ? spec : spec.gate))
    .filter((g) => TEST_GATES.has(g));
}

/** The tree the agent says it moves: `test_result.tree_hash`, else `implementation.tree_hash`. */
function treeNamed(artifacts: Readonly<Record<string, unknown>>): string | undefined {
  for (const name of ['test_result', 'implementation']) {
    const tree = (artifacts[name] as { tree_hash?: unknown } | undefined)?.tree_hash;
    if (typeof tree === 'string') return tree;
  }
  return undefined;
}
