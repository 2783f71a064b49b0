import type { InspectionEvent, Observer } from 'xstate';
import { systemClock, type Clock } from './core/clock.ts';
import { createUlidGenerator, type IdGenerator } from './core/ids.ts';
import { createLogger, type Logger } from './core/log.ts';
import { RuntimeConfigSchema, type RuntimeConfig, type RuntimeConfigInput } from './contracts/config.ts';
import { ActorHost } from './actors/actor-host.ts';
import type { Migrations } from './actors/migrations.ts';
import { runRetention, type RetentionReport } from './actors/retention.ts';
import { registerSessionTimers } from './actors/services/sessions.ts';
import type { RuntimeSettings, ServiceEnv, TrustedExecutor } from './actors/settings.ts';
import { changedFiles, resolveWorkdir, treeHash, verifyTests } from './executor/index.ts';
import { registerJobTimers } from './actors/services/queue.ts';
import { replaceLostReview } from './actors/services/reviews.ts';
import { WorkRegistry } from './actors/work/work-state.ts';
import { realRoots } from './actors/workdir-facts.ts';
import { WorkflowRegistry } from './actors/workflow-registry.ts';
import { createDispatch, type Dispatch } from './api/dispatch.ts';
import { Authenticator, MAX_WORKER_CREDENTIAL_TTL_SECONDS } from './api/auth.ts';
import { withBuiltinMigrations } from './actors/builtin-migrations.ts';
import { Revocations } from './actors/revocations.ts';
import { randomBytes } from 'node:crypto';
import { parse } from './api/validation.ts';
import { loadDefaultWorkflow } from './api/workflow-file.ts';
import { LmdbStore } from './store/lmdb-store.ts';
import type { Bus } from './transport/bus.ts';
import { InProcessBus } from './transport/in-process-bus.ts';

/** Everything `createOverseer` accepts: the serializable config plus injected parts. */
export interface OverseerOptions extends RuntimeConfigInput {
  /** Time source (tests pass a simulated clock). Default: the system clock. */
  clock?: Clock;
  /** A pino logger. Default: JSON to stdout at `logLevel`. */
  logger?: Logger;
  /** An XState inspection observer handed to every actor (e.g. `createBrowserInspector().inspect`). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** Id minting. Default: monotonic ULIDs on the clock. */
  ids?: IdGenerator;
  /** The bus. Default: in-process. */
  bus?: Bus;
  /** Snapshot migrations by kind and from-version (added to the built-in ones). */
  migrations?: Migrations;
  /**
   * The HS256 secret that signs and verifies tokens and worker credentials (a server passes its JWT secret).
   * Default: 32 random bytes, so credentials minted by an embedded runtime verify only in that process.
   */
  tokenSecret?: Uint8Array;
}

/** One workspace's counts at one moment, for the Prometheus gauges. */
export interface WorkspaceSample {
  workspaceId: string;
  /** Workers by status. */
  workers: Record<string, number>;
  /** Jobs by status. */
  jobs: Record<string, number>;
  /** Queued jobs by priority. */
  queueDepth: Record<string, number>;
}

/** What the runtime holds right now, read from memory (never LMDB): one entry per workspace loaded so far. */
export interface RuntimeSample {
  workspaces: WorkspaceSample[];
}

/** The composed runtime: host, command dispatch and housekeeping. */
export interface Runtime {
  readonly config: RuntimeConfig;
  readonly host: ActorHost;
  readonly bus: Bus;
  readonly log: Logger;
  readonly dispatch: Dispatch;
  /** Verifies tokens (checking revoked worker credentials) and mints worker credentials, with `tokenSecret`. */
  readonly authenticator: Authenticator;
  readonly settings: RuntimeSettings;
  readonly env: ServiceEnv;
  /** Counts for metrics (workers and jobs by status, queue depth by priority), so adapters need not reach the host. */
  sample(): RuntimeSample;
  /** Runs one retention pass now. */
  retain(): Promise<RetentionReport>;
  /**
   * Ends every parked long-poll now (claims answer `{ job: null }`, allocations `STORAGE_UNAVAILABLE`) and parks
   * none from then on, so a server closing does not wait out its callers' waits; `close` does this first.
   */
  endWaits(): void;
  /** Ends the waits, commits what is open and closes the store (and the bus it created). */
  close(): Promise<void>;
}

/** The composition root (DESIGN §2): validates the config and wires clock, ids, logger, store, bus and host. */
export async function createRuntime(options: OverseerOptions = {}): Promise<Runtime> {
  const {
    clock = systemClock,
    logger,
    inspect,
    ids,
    bus: givenBus,
    migrations,
    tokenSecret,
    ...raw
  } = options;
  const config = parse(RuntimeConfigSchema, raw);
  const log = logger ?? createLogger(config.logLevel);
  // Checked before the store opens: a bad `default` stops the start without touching the data dir.
  const defaultWorkflow = loadDefaultWorkflow(config.workflow.defaultFile);
  const store = LmdbStore.open({
    dataDir: config.dataDir,
    durability: config.durability,
    now: clock.now(),
    ...config.lmdb,
  });
  const bus: Bus = givenBus ?? new InProcessBus(log);
  const settings: RuntimeSettings = {
    heartbeatTimeoutMs: config.heartbeatTimeoutSeconds * 1000,
    sessionIdleTimeoutMs: config.session.idleTimeoutSeconds * 1000,
    sessionMaxAgeMs: config.session.maxAgeSeconds * 1000,
    resources: config.resources,
    workdirRoots: realRoots(config.workflow.workdirRoots),
    workflowCommands: config.workflow.commands,
    dataDir: config.dataDir,
  };
  const work = new WorkRegistry(store, config.resources);
  const workflows = new WorkflowRegistry(store, [defaultWorkflow]);
  const executor: TrustedExecutor = {
    verifyTests: (o) => verifyTests(o),
    treeHash: (dir) => treeHash(dir),
    changedFiles: (dir, from, to) => changedFiles(dir, from, to),
    resolveWorkdir,
  };
  const env: ServiceEnv = {
    settings,
    work,
    workflows,
    random: Math.random,
    executor,
    childEnded: replaceLostReview,
  };
  let host: ActorHost;
  try {
    host = await ActorHost.open({
      store,
      clock,
      ids: ids ?? createUlidGenerator(() => clock.now()),
      log,
      bus,
      env,
      ...(inspect ? { inspect } : {}),
      passivateAfterMs: config.passivateAfterMs,
      idempotencyTtlMs: config.idempotencyTtlMs,
      migrations: withBuiltinMigrations(migrations),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  host.onReset(() => work.reset());
  host.onReset(() => workflows.reset());
  const revocations = new Revocations(store, MAX_WORKER_CREDENTIAL_TTL_SECONDS * 1000);
  host.observeTransitions(revocations.observe);
  host.onReset(() => revocations.reload());
  const authenticator = new Authenticator(
    { secret: tokenSecret ?? randomBytes(32) },
    () => clock.now(),
    revocations.has,
  );
  registerSessionTimers(host);
  registerJobTimers(host);
  const dispatch = createDispatch(host, { credentials: authenticator });
  // One pass at a time: a pass asked for while another runs starts after it.
  let lastPass: Promise<unknown> = Promise.resolve();
  const retain = () => {
    const pass = lastPass
      .catch(() => undefined)
      .then(() => runRetention(host, { journalRetentionMs: config.journalRetentionMs, revocations }));
    lastPass = pass;
    return pass;
  };
  let retentionHandle: unknown = null;
  let closed = false;
  const scheduleRetention = () => {
    retentionHandle = clock.setTimeout(() => {
      retain()
        .catch((err: unknown) => log.warn({ err }, 'retention failed'))
        .finally(() => {
          if (!closed) scheduleRetention();
        });
    }, config.retentionIntervalMs);
  };
  scheduleRetention();
  return {
    config,
    host,
    bus,
    log,
    dispatch,
    authenticator,
    settings,
    env,
    sample: () => ({
      workspaces: [...work.loaded()].map((w) => ({
        workspaceId: w.ws,
        workers: host.statusCounts(w.ws, 'worker'),
        jobs: host.statusCounts(w.ws, 'job'),
        queueDepth: w.queue.depthByPriority(),
      })),
    }),
    retain,
    endWaits: () => work.endWaits(),
    async close() {
      if (closed) return;
      closed = true;
      work.endWaits();
      if (retentionHandle !== null) clock.clearTimeout(retentionHandle);
      await host.close();
      if (!givenBus) await bus.close();
    },
  };
}
