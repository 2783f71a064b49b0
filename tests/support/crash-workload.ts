/**
 * The crash test's child process: opens Overseer on a data dir and runs a workload until it is killed.
 *
 *   node --import tsx tests/support/crash-workload.ts <dataDir> <runIndex> <seed> [durability] [resendFile]
 *
 * Workload: 32 concurrent lanes of `jobs.submit`, each with a fresh idempotency key or (about one in four) a
 * re-send of a key from `resendFile` (keys of earlier runs, e.g. those whose outcome was unknown at a kill); plus
 * 3 workers registered under fixed keys (re-sent every run) and paused/resumed in turn, one operation at a time
 * per worker, each under its own key. Every job's title and every worker's name encode their key.
 *
 * Output, one line per event written synchronously (the History line protocol): `ready` once createOverseer
 * resolved (or `openfail <message>` and exit 1), then `invoke <f> <key> [argsJson]` before each call and
 * `ok <f> <key> <resultJson>` or `fail <f> <key> <code>` when it settles.
 */
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from './prng.ts';
import {
  createOverseer,
  type JobSubmitInput,
  type Priority,
  type WorkerRegisterInput,
} from '../../src/index.ts';

/** The workspace the workload runs in. */
export const CRASH_WORKSPACE = 'crash';
/** Concurrent submit lanes. */
export const LANES = 32;
/** Workers registered (keys `wk0`…) and paused/resumed. */
export const WORKERS = 3;
/** Keeps workers from going OFFLINE between runs: the checker expects PAUSED or IDLE only. */
export const HEARTBEAT_TIMEOUT_SECONDS = 86_400;

const TITLE_PREFIX = 'crash:';
const NAME_PREFIX = 'crash-worker:';

/** The payload submitted under a job key: a function of the key only, so a re-send is the same request. */
export function jobPayload(key: string): JobSubmitInput {
  let h = 0;
  for (const c of key) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const priorities: Priority[] = ['high', 'normal', 'low'];
  return { title: `${TITLE_PREFIX}${key}`, priority: priorities[h % 3]!, metadata: { key } };
}

/** The key a job title encodes (null: not a workload job). */
export const keyOfJobTitle = (title: string): string | null =>
  title.startsWith(TITLE_PREFIX) ? title.slice(TITLE_PREFIX.length) : null;

/** The registration key of worker `i` and its payload. */
export const workerKey = (i: number): string => `wk${i}`;
export const workerPayload = (key: string): WorkerRegisterInput => ({ name: `${NAME_PREFIX}${key}` });
export const keyOfWorkerName = (name: string): string | null =>
  name.startsWith(NAME_PREFIX) ? name.slice(NAME_PREFIX.length) : null;

export { mulberry32 };

/** What the parent hands a run: keys to re-send. */
export interface ResendFile {
  jobs: string[];
}

function emit(line: string): void {
  const buf = Buffer.from(`${line}\n`);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

const codeOf = (err: unknown): string =>
  (err as { code?: unknown }).code !== undefined ? String((err as { code: unknown }).code) : 'THROWN';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function main(argv: string[]): Promise<void> {
  const [dataDir, runArg, seedArg, durabilityArg = 'flush', resendPath] = argv;
  if (!dataDir || !runArg || !seedArg) throw new Error('usage: crash-workload <dataDir> <runIndex> <seed>');
  const run = Number(runArg);
  const durability = durabilityArg === 'commit' ? 'commit' : 'flush';
  const rand = mulberry32((Number(seedArg) ^ Math.imul(run + 1, 0x9e3779b1)) >>> 0);
  const resend: string[] = resendPath
    ? (JSON.parse(readFileSync(resendPath, 'utf8')) as ResendFile).jobs
    : [];

  let ov: Awaited<ReturnType<typeof createOverseer>>;
  try {
    ov = await createOverseer({
      dataDir,
      durability,
      logLevel: 'silent',
      heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_SECONDS,
    });
  } catch (err) {
    emit(`openfail ${String((err as Error).message ?? err).replace(/\n/g, ' ')}`);
    process.exit(1);
  }
  emit('ready');
  const ws = ov.workspace(CRASH_WORKSPACE);

  let next = 0;
  const nextJobKey = (): string => {
    if (resend.length > 0 && rand() < 0.25) return resend.shift()!;
    return `j${run}.${next++}`;
  };

  const lane = async (): Promise<void> => {
    for (;;) {
      const key = nextJobKey();
      emit(`invoke jobs.submit ${key}`);
      try {
        const job = await ws.jobs.submit(jobPayload(key), { idempotencyKey: key });
        emit(`ok jobs.submit ${key} ${JSON.stringify(job)}`);
      } catch (err) {
        emit(`fail jobs.submit ${key} ${codeOf(err)}`);
      }
    }
  };

  const workerLoop = async (i: number): Promise<void> => {
    const key = workerKey(i);
    emit(`invoke workers.register ${key}`);
    let workerId: string;
    try {
      const worker = await ws.workers.register(workerPayload(key), { idempotencyKey: key });
      emit(`ok workers.register ${key} ${JSON.stringify(worker)}`);
      workerId = worker.id;
    } catch (err) {
      emit(`fail workers.register ${key} ${codeOf(err)}`);
      return;
    }
    // The replayed registration answers the worker as it was then; its status now comes from a read.
    let status = (await ws.workers.get(workerId)).status;
    for (let n = 0; ; n++) {
      const f = status === 'PAUSED' ? 'workers.resume' : 'workers.pause';
      const opKey = `w${i}.${run}.${n}`;
      emit(`invoke ${f} ${opKey} ${JSON.stringify({ workerId })}`);
      try {
        const worker =
          f === 'workers.pause'
            ? await ws.workers.pause(workerId, { idempotencyKey: opKey })
            : await ws.workers.resume(workerId, { idempotencyKey: opKey });
        emit(`ok ${f} ${opKey} ${JSON.stringify(worker)}`);
        status = worker.status;
      } catch (err) {
        emit(`fail ${f} ${opKey} ${codeOf(err)}`);
        status = (await ws.workers.get(workerId)).status;
      }
      await sleep(Math.floor(rand() * 4));
    }
  };

  await Promise.all([
    ...Array.from({ length: LANES }, () => lane()),
    ...Array.from({ length: WORKERS }, (_, i) => workerLoop(i)),
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    emit(`error ${String((err as Error).stack ?? err).replace(/\n/g, ' | ')}`);
    process.exit(2);
  });
}
