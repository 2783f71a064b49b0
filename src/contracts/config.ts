import { z } from 'zod';
import { ResourceConfigSchema } from './resources.ts';

/** The serializable runtime configuration (file, then environment, then options). */
export const RuntimeConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('.overseer'),
    durability: z.enum(['flush', 'commit']).default('flush'),
    heartbeatTimeoutSeconds: z.number().positive().max(86_400).default(30),
    session: z
      .object({
        idleTimeoutSeconds: z.number().positive().default(1800),
        maxAgeSeconds: z.number().positive().default(3600),
      })
      .prefault({}),
    /** Actors unused this long leave memory and come back from LMDB on demand. */
    passivateAfterMs: z.number().int().min(1).default(60_000),
    /** How long an idempotency key keeps its first answer. */
    idempotencyTtlMs: z
      .number()
      .int()
      .min(1)
      .default(24 * 3600 * 1000),
    /** Journal records older than this are removed (below every consumer's cursor). */
    journalRetentionMs: z
      .number()
      .int()
      .min(1)
      .default(7 * 24 * 3600 * 1000),
    /** How often retention runs. */
    retentionIntervalMs: z.number().int().min(10).default(60_000),
    /** Quotas per depth and per workspace, and the sizes of counted pools (`pools: { gpu: 4 }`). */
    resources: ResourceConfigSchema.prefault({}),
    /** Workflows (issue 16): which file is the `default` workflow, and where jobs' working trees may lie. */
    workflow: z
      .object({
        /**
         * The file registered as the `default` workflow in every workspace, instead of the one shipped with the
         * package (`workflows/default.yaml`). Its `name` must be `default`; it is read and checked once, at start.
         */
        defaultFile: z.string().min(1).optional(),
        /**
         * Absolute directories a job's `execution.workdir` must lie under (symlinks resolved). With none, a job
         * under a workflow may not name a workdir.
         */
        workdirRoots: z
          .array(
            z
              .string()
              .min(1)
              .max(4096)
              .refine((p) => /^(\/|[A-Za-z]:[\\/])/.test(p), {
                message: 'a workdir root is an absolute path',
              }),
          )
          .max(64)
          .default([]),
        /**
         * The node's command allowlist: name → argv (no shell). A workflow's `test_command` and `command` gates name
         * an entry; the trusted executor runs it in the job's workdir for verified evidence.
         */
        commands: z
          .record(z.string().min(1).max(128), z.array(z.string().min(1).max(4096)).min(1).max(256))
          .default({}),
      })
      .strict()
      .prefault({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
    /** LMDB settings; `noSync`, `noMetaSync` and `useWritemap` are refused. */
    lmdb: z
      .object({
        mapSize: z.number().int().positive().optional(),
        noSync: z
          .literal(false, { error: 'noSync is refused: it loses acknowledged work on a crash' })
          .optional(),
        noMetaSync: z
          .literal(false, { error: 'noMetaSync is refused: it loses acknowledged work on a crash' })
          .optional(),
        useWritemap: z
          .literal(false, { error: 'useWritemap is refused: it loses acknowledged work on a crash' })
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .meta({ id: 'RuntimeConfig' });
export type RuntimeConfigInput = z.input<typeof RuntimeConfigSchema>;
export type RuntimeConfig = z.output<typeof RuntimeConfigSchema>;
