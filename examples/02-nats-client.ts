// A worker over NATS: register, then claim → heartbeat → complete (claiming the next in the same call),
// until MAX_JOBS are done or the supervisor terminates it. Env: NATS_URL, OVERSEER_TOKEN (a runner's token: it
// registers workers and nothing else), OVERSEER_WORKSPACE.
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAgent, type Claim } from '../src/sdk/index.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name}.`);
  return value;
};
const maxJobs = Number(process.env.MAX_JOBS ?? Infinity);

const agent = await connectAgent({
  workspaceId: env('OVERSEER_WORKSPACE'),
  token: env('OVERSEER_TOKEN'),
  nats: env('NATS_URL'),
});
const worker = await agent.register({ name: `example-${process.pid}` });
console.log(`registered ${worker.id}`);
// From here on the agent's calls carry the worker's own credential (worker.credential), renewed by heartbeats;
// once the worker ends it is revoked, and heartbeat answers `terminate`.

let done = 0;
let claim: Claim | null = null;
while (done < maxJobs) {
  const { directive } = await agent.heartbeat(claim?.leaseToken);
  if (directive === 'terminate') break;
  if (directive === 'cancel') claim = null; // the job was canceled: drop it
  if (directive === 'pause') {
    await sleep(1_000);
    continue;
  }
  claim ??= await agent.claim({ waitMs: 10_000 });
  if (!claim) continue;
  const result = { words: claim.job.title.split(/\s+/).length }; // the work
  const { next } = await agent.complete(claim.job.id, claim.leaseToken, {
    result,
    claimNext: done + 1 < maxJobs,
  });
  console.log(`completed ${claim.job.id} ${claim.job.title}`);
  done++;
  claim = next ?? null;
}
if (done >= maxJobs) await agent.deregister(); // leave cleanly: the worker completes
console.log(`done ${done}`);
await agent.close();
