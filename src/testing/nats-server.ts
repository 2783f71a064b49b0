import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** A nats-server started for a test, on a random port of 127.0.0.1. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The monitoring endpoint (`http://127.0.0.1:<port>`), when enabled. */
  readonly monitorUrl: string | undefined;
  /** The pid of the current process (it changes on restart). */
  readonly pid: number;
  /** Kills the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port, after `downtimeMs` (default 0). */
  restart(options?: { downtimeMs?: number }): Promise<void>;
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Extra configuration text appended to the generated config (an `authorization` block, limits, …). */
  config?: string;
  /** Whether to enable the HTTP monitoring endpoint (default true). */
  monitor?: boolean;
  /** The executable; default `$NATS_SERVER_BIN`, `/usr/sbin/nats-server`, then `nats-server` on PATH. */
  binary?: string;
  /** How long to wait for the server to be ready (default 10 s). */
  startTimeoutMs?: number;
}

const STDERR_TAIL = 8_192;

function defaultBinary(): string {
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv) return fromEnv;
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a nats-server of its own, as nats.js's tests do: a config in a temp dir with `port: -1`, an
 * optional `http: "127.0.0.1:-1"` and `ports_file_dir`; the port is read from the ports file. Fails fast,
 * with the server's stderr, when the process exits before it is ready. Never touches port 4222.
 *
 * @example
 * const ns = await startNatsServer();
 * const bus = await NatsBus.connect({ servers: ns.url });
 * // …
 * await bus.close();
 * await ns.stop();
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = options.binary ?? defaultBinary();
  const monitor = options.monitor ?? true;
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const dir = await mkdtemp(join(tmpdir(), 'overseer-nats-'));
  const confPath = join(dir, 'server.conf');

  let child: ChildProcess | undefined;
  let port = -1;
  let monitorUrl: string | undefined;
  let stopped = false;
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const writeConfig = (listenPort: number): Promise<void> =>
    writeFile(
      confPath,
      [
        `host: "127.0.0.1"`,
        `port: ${listenPort}`,
        monitor ? `http: "127.0.0.1:-1"` : '',
        `ports_file_dir: ${JSON.stringify(dir)}`,
        options.config ?? '',
        '',
      ].join('\n'),
    );

  const launch = async (): Promise<void> => {
    const proc = spawn(binary, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stderr = '';
    const keep = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
    };
    proc.stderr?.on('data', keep);
    proc.stdout?.on('data', keep);
    let exited: string | undefined;
    proc.once('error', (err) => (exited = `could not run ${binary}: ${err.message}`));
    proc.once('exit', (code, signal) => (exited ??= `exited early (code ${code}, signal ${signal})`));

    const portsFile = (): string => join(dir, `${basename(binary)}_${proc.pid}.ports`);
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (exited !== undefined) throw new Error(`nats-server ${exited}:\n${stderr}`);
      if (proc.pid !== undefined) {
        const text = await readFile(portsFile(), 'utf8').catch(() => undefined);
        const ports = parsePorts(text);
        if (ports) {
          port = ports.port;
          monitorUrl = ports.monitorUrl;
          return;
        }
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`nats-server was not ready within ${startTimeoutMs} ms:\n${stderr}`);
      }
      await sleep(10);
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exit = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exit;
    clearTimeout(timer);
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    await kill();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await writeConfig(-1);
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get monitorUrl() {
      return monitorUrl;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    async restart(restartOptions = {}) {
      if (stopped) throw new Error('nats-server was stopped; start a new one.');
      const samePort = port;
      await kill();
      if (restartOptions.downtimeMs) await sleep(restartOptions.downtimeMs);
      await writeConfig(samePort);
      // The port was ours a moment ago; retry briefly if the kernel has not released it yet.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (err) {
          if (attempt >= 5 || !String(err).includes('address already in use')) throw err;
          await sleep(100 * attempt);
        }
      }
    },
  };
}

function parsePorts(text: string | undefined): { port: number; monitorUrl: string | undefined } | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as { nats?: string[]; monitoring?: string[] };
    const url = parsed.nats?.[0];
    if (!url) return undefined;
    return { port: Number(new URL(url).port), monitorUrl: parsed.monitoring?.[0] };
  } catch {
    return undefined; // written but not complete yet
  }
}
