import { z } from 'zod';
import { IdSchema } from './common.ts';
import { TestReportFormatSchema, TreeHashSchema } from './artifacts.ts';

/** The test gates an executor elsewhere may send evidence for. */
export const EvidenceGateSchema = z
  .enum(['tests_are_failing', 'all_tests_pass'])
  .meta({ id: 'EvidenceGate' });

/**
 * Evidence from an executor that runs where the working tree is (the agent runner), for a test gate of the job's
 * current phase: the tree it ran on, the test command's exit code and its raw report (TAP, JUnit XML or node's spec
 * output, parsed by the node), and the files changed in this phase.
 */
export const EvidenceSubmitSchema = z
  .object({
    jobId: IdSchema,
    gate: EvidenceGateSchema,
    treeHash: TreeHashSchema,
    exitCode: z.number().int().nullable(),
    report: z.string().max(1 << 20),
    format: TestReportFormatSchema.optional(),
    /** Files changed since the phase was entered (relative to the tree's root), for `tests_are_failing`. */
    changedFiles: z.array(z.string().min(1).max(2_048)).max(10_000).optional(),
    /** What the executor calls itself (host, version), kept with the evidence. */
    executor: z.string().min(1).max(200).optional(),
  })
  .strict()
  .meta({ id: 'EvidenceSubmit' });
export type EvidenceSubmit = z.infer<typeof EvidenceSubmitSchema>;

/** What the node recorded: `verified` evidence, who sent it, and whether its report could be read. */
export const EvidenceRecordSchema = z
  .object({
    jobId: z.string(),
    gate: EvidenceGateSchema,
    phase: z.string(),
    epoch: z.number().int(),
    treeHash: z.string(),
    exitCode: z.number().int().nullable(),
    evidence: z.literal('verified'),
    executor: z.object({ workerId: z.string(), name: z.string().nullable() }),
    /** The report could be parsed (a report that cannot is recorded and counts as a gate error). */
    readable: z.boolean(),
    counts: z
      .object({
        total: z.number(),
        passed: z.number(),
        failed: z.number(),
        skipped: z.number(),
        todo: z.number(),
      })
      .nullable(),
    outputDigest: z.string(),
    at: z.number(),
  })
  .meta({ id: 'EvidenceRecord' });
export type EvidenceRecord = z.infer<typeof EvidenceRecordSchema>;
