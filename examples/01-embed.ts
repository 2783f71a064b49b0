import { createOverseer } from 'overseer';

const ov = await createOverseer({ dataDir: process.env.OVERSEER_DATA_DIR ?? '.overseer' });
const ws = ov.workspace('acme'); // the embedding program: an admin of the workspace
const off = ov.events.subscribe((record) =>
  console.log(`#${record.seq} ${record.kind} ${record.from ?? '∅'} → ${record.to}`),
);

const job = await ws.jobs.submit({ title: 'Add login', priority: 'high' }, { idempotencyKey: 'add-login' });
const again = await ws.jobs.submit({ title: 'Add login', priority: 'high' }, { idempotencyKey: 'add-login' });
console.log(job.status, again.id === job.id); // QUEUED true

const worker = await ws.workers.register({ name: 'claude-1', capabilities: ['typescript'] });
// The worker acts with its own credential: on itself only, under the same rules as over HTTP and NATS.
const agent = ov.workspace('acme', { principal: await ov.authenticate(worker.credential.token) });
await ws.workers.pause(worker.id);
console.log((await agent.workers.heartbeat(worker.id)).directive); // pause
await ws.workers.resume(worker.id);
console.log((await agent.workers.heartbeat(worker.id)).directive); // resume

const { jobs } = await ws.jobs.list({ status: 'QUEUED' });
console.log(jobs.length >= 1);
off();
await ov.close();
