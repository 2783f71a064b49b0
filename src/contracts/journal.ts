import { z } from 'zod';

export const EntityKind = {
  JOB: 'job',
  WORKER: 'worker',
  SESSION: 'session',
  WORKSTREAM: 'workstream',
  /** A job's position in its workflow; its journal records name workflow phases (`TDD → IMPL`). */
  PHASE: 'phase',
} as const;
export type EntityKind = (typeof EntityKind)[keyof typeof EntityKind];
export const EntityKindSchema = z.enum(EntityKind).meta({ id: 'EntityKind' });

export const Severity = { INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** One state an actor passed through, committed with the transition that caused it. */
export const JournalRecordSchema = z
  .object({
    seq: z.number().int(),
    at: z.number(),
    workspaceId: z.string(),
    kind: EntityKindSchema,
    id: z.string(),
    event: z.string(),
    from: z.string().nullable(),
    to: z.string(),
    severity: z.enum(Severity),
    principal: z.string(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'JournalRecord' });
export type JournalRecord = z.infer<typeof JournalRecordSchema>;

export const EventListSchema = z
  .object({
    afterSeq: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict()
  .meta({ id: 'EventListQuery' });
export type EventListQuery = z.input<typeof EventListSchema>;
