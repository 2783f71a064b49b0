/**
 * One consumer process of bench/w1-nats.ts, driven by its parent over the IPC channel. It speaks only plain NATS
 * (nats.js, JSON payloads, a JWT in the `Authorization` header), as an agent in another process or language would:
 *
 * - `{ type: 'register', count }`: registers `count` workers (`overseer.cmd.<ws>.workers.register`);
 * - `{ type: 'drain' }`: runs one loop per registered worker, claim (`queue.claim`, no wait) then complete with
 *   `claimNext: true` (`queue.complete`) until an answer carries no next job; answers the id of every job it
 *   completed (one entry per acknowledged complete, so a duplicate would show twice), the errors it met and the
 *   CPU time the drain took in this process.
 *
 * Environment: `W1_NATS_URL`, `W1_NATS_TOKEN` (scope queue:work), `W1_NATS_WS`, `W1_NATS_NAME`.
 */
import { connect, headers as natsHeaders } from '@nats-io/transport-node';

interface Claimed {
  job: { id: string } | null;
  lease?: { token: string };
}

type Ask = { id: number } & ({ type: 'register'; count: number } | { type: 'drain' });

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const ws = env('W1_NATS_WS');
const name = env('W1_NATS_NAME');
const nc = await connect({ servers: env('W1_NATS_URL'), name });
const h = natsHeaders();
h.set('Authorization', `Bearer ${env('W1_NATS_TOKEN')}`);
const TIMEOUT_MS = 30_000;

/** One command; throws the error envelope's code and message when the answer is an error. */
async function command<T>(cmd: string, input: unknown): Promise<T> {
  const msg = await nc.request(`overseer.cmd.${ws}.${cmd}`, JSON.stringify(input), {
    headers: h,
    timeout: TIMEOUT_MS,
  });
  const error = msg.headers?.get('Nats-Service-Error');
  if (error) throw new Error(`${cmd}: ${error} ${msg.string()}`);
  return msg.json<T>();
}

let workers: string[] = [];

async function drain(): Promise<{
  completed: string[];
  errors: number;
  cpuUs: number;
  firstError?: string;
}> {
  const c0 = process.cpuUsage();
  const completed: string[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const loop = async (workerId: string): Promise<void> => {
    try {
      let answer = await command<Claimed>('queue.claim', { workerId });
      while (answer.job && answer.lease) {
        const jobId = answer.job.id;
        const done = await command<{ next?: Claimed }>('queue.complete', {
          jobId,
          leaseToken: answer.lease.token,
          claimNext: true,
        });
        completed.push(jobId);
        answer = done.next ?? { job: null };
      }
    } catch (err) {
      errors++;
      firstError ??= String(err);
    }
  };
  await Promise.all(workers.map(loop));
  const cpu = process.cpuUsage(c0);
  return {
    completed,
    errors,
    cpuUs: cpu.user + cpu.system,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

process.on('message', (ask: Ask) => {
  const run = async (): Promise<Record<string, unknown>> => {
    if (ask.type === 'register') {
      const registered = await Promise.all(
        Array.from({ length: ask.count }, (_, i) =>
          command<{ id: string }>('workers.register', { name: `${name}-${i}` }),
        ),
      );
      workers = registered.map((w) => w.id);
      return { workers };
    }
    return drain();
  };
  run().then(
    (answer) => process.send!({ id: ask.id, ...answer }),
    (err: unknown) => process.send!({ id: ask.id, error: String(err) }),
  );
});
process.on('disconnect', () => {
  void nc.close().finally(() => process.exit(0));
});
process.send!({ id: 0 });
