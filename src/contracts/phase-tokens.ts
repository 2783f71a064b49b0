import { z } from 'zod';
import { IdSchema, WorkspaceIdSchema } from './common.ts';
import { PhaseIdSchema } from './workflow.ts';

/** The `typ` header of a phase token: never an API token, a worker credential or a check token. */
export const PHASE_TOKEN_TYP = 'overseer-phase+jwt';
/** The `typ` header of a check token (what a hook holds): never a phase token or an API token. */
export const CHECK_TOKEN_TYP = 'overseer-check+jwt';
/** The longest a phase token may live: the most a workflow's `token_expiry_seconds` allows. */
export const MAX_PHASE_TOKEN_TTL_SECONDS = 604_800;

const NumericDateSchema = z.number().int().nonnegative();
const FenceSchema = z.number().int().nonnegative();
const JtiSchema = z.string().min(1).max(64);

/**
 * The claims of a phase token: bound to a workspace, a job, the worker holding its lease, the phase and its epoch
 * (which grows with every move, so a second IMPL round is another epoch), and the lease's fencing number.
 */
export const PhaseTokenClaimsSchema = z.object({
  ws: WorkspaceIdSchema,
  job: IdSchema,
  wrk: IdSchema,
  phase: PhaseIdSchema,
  fence: FenceSchema,
  epoch: z.number().int().nonnegative(),
  iat: NumericDateSchema,
  exp: NumericDateSchema,
  jti: JtiSchema,
});
export type PhaseTokenClaims = z.output<typeof PhaseTokenClaimsSchema>;

/** The claims of a check token: bound to a workspace, a job and the lease's fencing number, for the lease's life. */
export const CheckTokenClaimsSchema = z.object({
  ws: WorkspaceIdSchema,
  job: IdSchema,
  fence: FenceSchema,
  iat: NumericDateSchema,
  exp: NumericDateSchema,
  jti: JtiSchema,
});
export type CheckTokenClaims = z.output<typeof CheckTokenClaimsSchema>;
