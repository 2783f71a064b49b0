// Overseer over NATS with a plain NATS client (no Overseer code): submit a job, list jobs, follow the events.
//   NATS_URL=nats://127.0.0.1:4222 OVERSEER_TOKEN=$(npx overseer token create --workspace acme \
//     --scopes jobs:read,jobs:write) node examples/nats-plain-client.mjs
// Behind `overseer nats-config`, also set NATS_USER and NATS_PASSWORD.
import { connect, headers } from '@nats-io/transport-node';

const token = process.env.OVERSEER_TOKEN;
// The token names its workspace (claim `ws`); the subjects name it too.
const ws = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).ws;
const nc = await connect({
  servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  ...(process.env.NATS_USER ? { user: process.env.NATS_USER, pass: process.env.NATS_PASSWORD } : {}),
  inboxPrefix: `_INBOX_${ws}`, // the only inboxes a workspace's NATS user may read
});

/** One command: JSON in, JSON out; an error answer carries Nats-Service-Error-Code and the envelope. */
async function command(name, input = {}, idempotencyKey) {
  const h = headers();
  h.set('Authorization', `Bearer ${token}`);
  if (idempotencyKey) h.set('Idempotency-Key', idempotencyKey);
  const msg = await nc.request(`overseer.cmd.${ws}.${name}`, JSON.stringify(input), {
    headers: h,
    timeout: 10_000,
  });
  const status = msg.headers?.get('Nats-Service-Error-Code');
  if (status) {
    const { error } = msg.json();
    throw Object.assign(new Error(`${status} ${error.code}: ${error.message}`), error);
  }
  return msg.json();
}

// Events arrive at most once, in commit order; after a reconnect, events.list fills the gap by seq.
let lastSeq = 0;
const seen = [];
const show = (e) => {
  if (e.seq <= lastSeq) return;
  lastSeq = e.seq;
  seen.push(e);
  console.log(`event #${e.seq} ${e.kind} ${e.id} ${e.from ?? '-'} -> ${e.to}`);
};
nc.subscribe(`overseer.evt.${ws}.>`, { callback: (err, msg) => err || show(msg.json()) });
(async () => {
  for await (const s of nc.status()) {
    if (s.type !== 'reconnect') continue;
    for (let page = { nextCursor: lastSeq }; page.nextCursor !== null;) {
      page = await command('events.list', { afterSeq: page.nextCursor, limit: 500 });
      page.events.forEach(show);
    }
  }
})();
await nc.flush(); // the subscription is in place before we act

const job = await command('jobs.submit', { title: 'Hello from NATS', priority: 'high' }, 'hello-1');
console.log(`submitted ${job.id} ${job.status}`);
const again = await command('jobs.submit', { title: 'Hello from NATS', priority: 'high' }, 'hello-1');
console.log(`retried with the same key: ${again.id === job.id ? 'same job' : 'another job!'}`);

// Pages end with nextCursor: null (early, too, when the next job would not fit the server's max_payload).
const jobs = [];
for (let page = { nextCursor: undefined }; page.nextCursor !== null;) {
  page = await command('jobs.list', page.nextCursor ? { cursor: page.nextCursor } : {});
  jobs.push(...page.jobs);
}
console.log(`listed ${jobs.length} job(s): ${jobs.map((j) => j.title).join(', ')}`);

try {
  await command('jobs.get', { jobId: 'job_missing' });
} catch (err) {
  console.log(`error ${err.code}`);
}

for (let i = 0; i < 100 && !seen.some((e) => e.id === job.id && e.to === 'QUEUED'); i++)
  await new Promise((r) => setTimeout(r, 50));
await nc.drain();
