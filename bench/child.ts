/** A benchmark's helper process (forked with tsx) driven over IPC: one question, one answer, matched by id. */
import { fork, type ChildProcess } from 'node:child_process';

/** What a child answers: the id it was asked with and, on failure, an error. Id 0 is its "ready". */
export interface ChildAnswer {
  id: number;
  error?: string;
}

export interface Child<Q, A extends ChildAnswer> {
  ask(question: Q): Promise<A>;
  stop(): void;
}

/**
 * Forks `script` (with `--import tsx`) and waits for its ready message (`{ id: 0 }`). `ask` sends a question with
 * a fresh id and resolves with the answer of that id; an answer with `error`, or the child's exit, rejects.
 */
export async function startChild<Q extends object, A extends ChildAnswer>(
  label: string,
  script: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<Child<Q, A>> {
  const child: ChildProcess = fork(script, [...args], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_RESULT: '', ...env },
  });
  const pending = new Map<number, { resolve(a: A): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited: Error | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  child.on('message', (a: A) => {
    const p = pending.get(a.id);
    pending.delete(a.id);
    p?.resolve(a);
  });
  child.on('exit', (code, signal) => {
    exited = new Error(`${label} exited (code ${code}, signal ${signal})`);
    for (const p of pending.values()) p.reject(exited);
    pending.clear();
  });
  await ready;
  return {
    async ask(question) {
      if (exited) throw exited;
      const id = nextId++;
      const answer = await new Promise<A>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...question, id });
      });
      if (answer.error) throw new Error(`${label}: ${answer.error}`);
      return answer;
    },
    stop: () => child.disconnect(),
  };
}
