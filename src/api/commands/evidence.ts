import { OverseerError } from '../../core/errors.ts';
import { EvidenceRecordSchema, EvidenceSubmitSchema } from '../../contracts/evidence.ts';
import { recordEvidence } from '../../actors/services/evidence.ts';
import { parseTestReport } from '../../domain/workflow/parse-test-report.ts';
import { defineCommand } from '../command.ts';
import { withId } from '../route-input.ts';

/**
 * `workflow.evidence`: test evidence from an executor that runs where the working tree is (the agent runner), for
 * a test gate of the job's current phase, recorded as `verified` with the sender's identity. Only the lease
 * holder's worker credential sends it: phase and check tokens, and every other caller, are refused with 403.
 */
export const evidenceCommands = [
  defineCommand({
    name: 'workflow.evidence',
    summary:
      "Send verified test evidence for a test gate of the job's current phase (the lease holder only).",
    input: EvidenceSubmitSchema,
    output: EvidenceRecordSchema,
    scopes: ['queue:work'],
    mutates: true,
    errors: ['NOT_YOUR_WORKER', 'LEASE_LOST', 'INVALID_STATE_TRANSITION'],
    example: {
      gate: 'tests_are_failing',
      treeHash: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
      exitCode: 1,
      report: 'TAP version 13\nnot ok 1 - subtract\n1..1\n',
      format: 'tap',
      changedFiles: ['tests/math.test.mjs'],
      executor: 'runner-1',
    },
    http: [
      {
        method: 'POST',
        path: '/api/v1/jobs/:id/evidence',
        tag: 'workflow',
        input: withId('jobId'),
      },
    ],
    tokens: { phase: true, check: true, apiTokens: true },
    owner: { job: 'jobId' },
    run: async (ctx, input) => {
      const { workerId, phase, check } = ctx.principal;
      if (phase || check)
        throw new OverseerError(
          'INSUFFICIENT_SCOPE',
          'Evidence comes from the executor with the lease holder’s worker credential, not a phase or check token.',
          { reason: phase ? 'phase token' : 'check token' },
        );
      const report = parseTestReport({
        output: input.report,
        exitCode: input.exitCode,
        ...(input.format ? { format: input.format } : {}),
      });
      return ctx.host.execute(
        {
          ws: ctx.ws,
          command: 'workflow.evidence',
          principal: ctx.principal.sub,
          idempotencyKey: ctx.idempotencyKey,
          payload: input,
        },
        (tx) => recordEvidence(tx, workerId, input, report),
      );
    },
  }),
] as const;
