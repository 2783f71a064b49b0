/**
 * The transition crash test's child process: opens Overseer on a data dir, claims a job of the `default`
 * workflow and asks for PLAN → TDD under an Idempotency-Key, with a crash point armed (here, not in src):
 *
 *   node --import tsx tests/support/transition-crash-workload.ts <dataDir> <point>
 *
 * - `gated`: SIGKILL once the move's gate has run (plan_has_acceptance_criteria, inside the unit of work) and its
 *   writes are handed to the store, before the store commits them: the write transaction dies open;
 * - `committed`: SIGKILL when the answer's phase token for the new phase is about to be minted: the unit of work
 *   is committed and acknowledged durable, the caller has no answer;
 * - `none`: no crash point; the parent kills from outside at a moment of its choosing.
 *
 * Output, one line each, written synchronously: `claimed <json>` (job, phase token, request, key), `invoke`, then
 * `crash <point>` just before a crash point kills, or `ok <json>` if the answer came back.
 */
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createOverseer } from '../../src/index.ts';
import type { Write } from '../../src/store/store.ts';

export const CRASH_WORKSPACE = 'crash';
export const CRASH_SECRET = new TextEncoder().encode('transition-crash-secret-of-at-least-32-bytes');
export const HEARTBEAT_TIMEOUT_SECONDS = 86_400;
export const MOVE_KEY = 'move-plan-tdd';
export const MOVE = {
  currentPhase: 'PLAN',
  targetPhase: 'TDD',
  artifacts: {
    plan: { summary: 'Add login.', acceptance_criteria: ['A user logs in with a password.'] },
    scope: { files: [{ path: 'src/login.ts', change: 'create' }] },
  },
};
export type CrashPoint = 'gated' | 'committed' | 'none';

/** What the child tells the parent after its claim. */
export interface Claimed {
  jobId: string;
  phaseToken: string;
}

function emit(line: string): void {
  const buf = Buffer.from(`${line}\n`);
  for (let off = 0; off < buf.length;) off += writeSync(1, buf, off);
}

function die(point: CrashPoint): never {
  emit(`crash ${point}`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL sent to self');
}

async function main([dataDir, point]: string[]): Promise<void> {
  if (!dataDir || (point !== 'gated' && point !== 'committed' && point !== 'none'))
    throw new Error('usage: transition-crash-workload <dataDir> gated|committed|none');
  const ov = await createOverseer({
    dataDir,
    durability: 'flush',
    logLevel: 'silent',
    tokenSecret: CRASH_SECRET,
    heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS,
  });
  const ws = ov.workspace(CRASH_WORKSPACE);
  await ws.jobs.submit({ title: 'login', workflow: 'default', leaseSeconds: 24 * 3600 });
  const worker = await ws.workers.register({ name: 'agent' });
  const claim = await ws.queue.claim({ workerId: worker.id });
  const jobId = claim.job!.id;
  emit(`claimed ${JSON.stringify({ jobId, phaseToken: claim.phaseToken!.token } satisfies Claimed)}`);

  if (point === 'gated') {
    const store = ov.runtime.host.store;
    const commit = store.commit.bind(store);
    const isTheMove = (writes: readonly Write[]) =>
      writes.some((w) => w.db === 'artifacts' && w.key[1] === jobId);
    store.commit = (writes) =>
      commit(() => {
        const taken = typeof writes === 'function' ? writes() : writes;
        if (isTheMove(taken)) die(point);
        return taken;
      });
  } else if (point === 'committed') {
    const tokens = ov.runtime.authenticator.phaseTokens;
    const mint = tokens.mintPhaseToken.bind(tokens);
    tokens.mintPhaseToken = (grant) => {
      if (grant.jobId === jobId && grant.phase === MOVE.targetPhase) die(point);
      return mint(grant);
    };
  }

  const agent = ov.workspace(CRASH_WORKSPACE, {
    principal: await ov.authenticate(claim.phaseToken!.token),
  });
  emit('invoke');
  const answer = await agent.workflow.transition(MOVE, { idempotencyKey: MOVE_KEY });
  emit(`ok ${JSON.stringify(answer)}`);
  // Stay up until killed (the parent may be aiming at a later moment).
  setInterval(() => undefined, 1000);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    emit(`error ${String((err as Error).stack ?? err).replace(/\n/g, ' | ')}`);
    process.exit(2);
  });
}
