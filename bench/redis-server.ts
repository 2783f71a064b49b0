/**
 * A `redis-server` of the peer benchmark's own (Debian's package; `BENCH_REDIS_SERVER` names another binary): a
 * free port (never the system Redis on 6379), an append-only file in a fresh directory under `os.tmpdir()` (the
 * filesystem of our benchmark data dirs), RDB snapshots off, `appendfsync always` or `everysec`. Stopped with
 * SIGTERM, then SIGKILL after a grace; the directory is removed with it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tempDir } from './lib.ts';

/** How Redis syncs its append-only file: after every write, or once a second. */
export type AppendFsync = 'always' | 'everysec';

/** The binary the peer benchmark starts. */
export const redisBinary = (): string => process.env.BENCH_REDIS_SERVER || 'redis-server';

/** `redis-server --version`'s first line, or null when the binary cannot be run. */
export function redisServerVersion(): string | null {
  try {
    return execFileSync(redisBinary(), ['--version'], { encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return null;
  }
}

/** A port the kernel just handed out and released: free unless something takes it in between. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running redis-server of ours. */
export interface RedisServer {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** Starts redis-server and resolves once it accepts connections; rejects if it exits first or within 10 s. */
export async function startRedisServer(fsync: AppendFsync): Promise<RedisServer> {
  const dir = tempDir('overseer-bench-redis-');
  const port = await freePort();
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'yes',
    '--appendfsync', fsync,
    '--dir', dir.path,
    '--daemonize', 'no',
  ]; // prettier-ignore
  const child: ChildProcess = spawn(redisBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready in 10 s:\n${output}`)), 10_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (code ${code}, signal ${signal}):\n${output}`));
      });
    });
  } catch (err) {
    kill();
    dir.remove();
    throw err;
  }
  return {
    port,
    dir: dir.path,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const grace = setTimeout(kill, 5_000);
        await exited;
        clearTimeout(grace);
      }
      process.removeListener('exit', kill);
      dir.remove();
    },
  };
}
