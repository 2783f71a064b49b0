import { z } from 'zod';

/** One artifact a job handed in: its digest (`sha256:<hex>` of its canonical JSON), phase and epoch. */
export const ArtifactRecordSchema = z
  .object({ digest: z.string(), phase: z.string(), epoch: z.number().int(), at: z.number() })
  .meta({ id: 'ArtifactRecord' });

/** One gate's outcome of the last move. */
export const GateSummarySchema = z
  .object({ gate: z.string(), outcome: z.enum(['pass', 'fail', 'error']), reason: z.string() })
  .meta({ id: 'GateSummary' });

/** Where a job under a workflow stands: its workflow version, phase, epoch, round, artifacts and last gates. */
export const PhaseViewSchema = z
  .object({
    name: z.string(),
    version: z.number().int(),
    phase: z.string().describe('The current phase (the final one once the workflow ended).'),
    status: z.enum(['ACTIVE', 'COMPLETE', 'CANCELED']),
    epoch: z.number().int().describe('Grows with every move; a phase token is bound to one epoch.'),
    round: z.number().int().describe('The review round (0 before the first review).'),
    artifacts: z.record(z.string(), ArtifactRecordSchema),
    lastGates: z.array(GateSummarySchema),
    warned: z.boolean().describe('Permissive mode let the last move through despite blockers.'),
  })
  .meta({ id: 'PhaseView' });
export type PhaseView = z.infer<typeof PhaseViewSchema>;
