/**
 * Phase and check tokens: minted and verified (PhaseTokens), then held against the job's state (checkPhaseClaims,
 * checkCheckClaims). Every way a token can be wrong answers its own code and reason; the happy paths pass.
 */
import { createHmac } from 'node:crypto';
import { decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Authenticator,
  CLOCK_TOLERANCE_SECONDS,
  createToken,
  createWorkerCredential,
} from '../../src/api/auth.ts';
import { admitTokenKind } from '../../src/api/token-kinds.ts';
import { unverifiedPrincipal } from '../../src/api/command-caller.ts';
import { PhaseTokens, type PhaseTokenGrant } from '../../src/api/phase-tokens.ts';
import { CHECK_TOKEN_TYP, PHASE_TOKEN_TYP } from '../../src/contracts/phase-tokens.ts';
import { OverseerError } from '../../src/core/errors.ts';
import {
  checkCheckClaims,
  checkPhaseClaims,
  type PhaseFacts,
} from '../../src/domain/workflow/check-phase-claims.ts';

const SECRET = new TextEncoder().encode('overseer-phase-token-tests-0123456789abcdef');
const OTHER_SECRET = new TextEncoder().encode('overseer-phase-token-tests-another-secret!!');
const START = Date.UTC(2030, 0, 1);
const TTL = 7_200;

let now = START;
const clock = () => now;
const tokens = new PhaseTokens({ secret: SECRET }, clock);

const grant: PhaseTokenGrant = {
  workspaceId: 'acme',
  jobId: 'job_1',
  workerId: 'wrk_1',
  phase: 'PLAN',
  epoch: 0,
  fence: 7,
  ttlSeconds: TTL,
};
/** The job as the claim left it: in PLAN (epoch 0), leased by wrk_1 under fence 7. */
const facts: PhaseFacts = {
  workspaceId: 'acme',
  jobId: 'job_1',
  phase: 'PLAN',
  epoch: 0,
  fence: 7,
  leaseLive: true,
  workerId: 'wrk_1',
};
const leaseExpiresAt = () => now + 60_000;

const phaseToken = async (patch: Partial<PhaseTokenGrant> = {}) =>
  (await tokens.mintPhaseToken({ ...grant, ...patch })).token;
const checkToken = async () =>
  (
    await tokens.mintCheckToken({
      workspaceId: 'acme',
      jobId: 'job_1',
      fence: 7,
      expiresAt: leaseExpiresAt(),
    })
  ).token;

/** The OverseerError a promise rejects with. */
async function refusal(promise: Promise<unknown>): Promise<OverseerError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(OverseerError);
  return outcome as OverseerError;
}
/** The OverseerError a call throws. */
function thrown(run: () => void): OverseerError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OverseerError);
    return err as OverseerError;
  }
  throw new Error('expected a refusal');
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decoded = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
/** Valid phase-token claims as a payload, for tokens crafted by hand. */
const rawClaims = (patch: Record<string, unknown> = {}) => {
  const iat = Math.floor(now / 1000);
  return {
    ws: 'acme',
    job: 'job_1',
    wrk: 'wrk_1',
    phase: 'PLAN',
    fence: 7,
    epoch: 0,
    iss: 'overseer',
    aud: 'overseer-api',
    iat,
    exp: iat + TTL,
    jti: 'jti-1',
    ...patch,
  };
};
/** A token signed with the right secret, any header and any claims. */
const signedRaw = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: PHASE_TOKEN_TYP, ...header }).sign(SECRET);

/** The phase token of the same claim as a check token's claims (to show the phase check on the same facts). */
const phaseClaimsOf = (c: {
  ws: string;
  job: string;
  fence: number;
  iat: number;
  exp: number;
  jti: string;
}) => ({
  ...c,
  wrk: 'wrk_1',
  phase: 'PLAN',
  epoch: 0,
});

beforeEach(() => {
  now = START;
});

describe('phase tokens: the happy path', () => {
  it('a minted phase token verifies to its claims, fits its job and carries its own typ', async () => {
    const minted = await tokens.mintPhaseToken(grant);
    expect(minted.expiresAt).toBe(START + TTL * 1000);
    expect(decodeProtectedHeader(minted.token)).toEqual({ alg: 'HS256', typ: PHASE_TOKEN_TYP });
    const claims = await tokens.verifyPhaseToken(minted.token);
    expect(claims).toEqual({
      ws: 'acme',
      job: 'job_1',
      wrk: 'wrk_1',
      phase: 'PLAN',
      fence: 7,
      epoch: 0,
      iat: START / 1000,
      exp: START / 1000 + TTL,
      jti: expect.any(String) as string,
    });
    expect(() => checkPhaseClaims(claims, facts)).not.toThrow();
  });

  it('two tokens minted in the same second are distinct (jti)', async () => {
    const [a, b] = await Promise.all([phaseToken(), phaseToken()]);
    expect(a).not.toBe(b);
    expect(decoded(a).jti).not.toBe(decoded(b).jti);
  });

  it('a check token lives as long as the lease and survives a phase change', async () => {
    const minted = await tokens.mintCheckToken({
      workspaceId: 'acme',
      jobId: 'job_1',
      fence: 7,
      expiresAt: START + 90_500,
    });
    expect(minted.expiresAt).toBe(START + 91_000);
    expect(decodeProtectedHeader(minted.token).typ).toBe(CHECK_TOKEN_TYP);
    const claims = await tokens.verifyCheckToken(minted.token);
    expect(claims).toMatchObject({ ws: 'acme', job: 'job_1', fence: 7, exp: START / 1000 + 91 });
    expect(() => checkCheckClaims(claims, facts)).not.toThrow();
    // The job moved on to TDD: the phase token is stale, the hook's check token is not.
    const moved = { ...facts, phase: 'TDD', epoch: 1 };
    expect(() => checkCheckClaims(claims, moved)).not.toThrow();
    expect(thrown(() => checkPhaseClaims(phaseClaimsOf(claims), moved)).code).toBe('PHASE_TOKEN_STALE');
  });

  it('refuses to mint what could never verify', async () => {
    await expect(tokens.mintPhaseToken({ ...grant, ttlSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(tokens.mintPhaseToken({ ...grant, ttlSeconds: 604_801 })).rejects.toThrow(RangeError);
    await expect(
      tokens.mintCheckToken({ workspaceId: 'acme', jobId: 'job_1', fence: 7, expiresAt: now - 1 }),
    ).rejects.toThrow(RangeError);
  });
});

describe('phase tokens held against the job', () => {
  const cases: {
    name: string;
    current: Partial<PhaseFacts>;
    code: 'PHASE_TOKEN_INVALID' | 'PHASE_TOKEN_STALE';
    reason: string;
  }[] = [
    {
      name: 'other workspace',
      current: { workspaceId: 'other' },
      code: 'PHASE_TOKEN_INVALID',
      reason: 'OTHER_WORKSPACE',
    },
    { name: 'other job', current: { jobId: 'job_2' }, code: 'PHASE_TOKEN_INVALID', reason: 'OTHER_JOB' },
    {
      name: 'old phase',
      current: { phase: 'TDD', epoch: 1 },
      code: 'PHASE_TOKEN_STALE',
      reason: 'OLD_PHASE',
    },
    // REVIEW → IMPL → … → IMPL again: the same phase name, a later epoch.
    {
      name: 'same phase, later epoch',
      current: { epoch: 4 },
      code: 'PHASE_TOKEN_STALE',
      reason: 'OLD_PHASE',
    },
    {
      name: 'lost lease, claimed again',
      current: { fence: 9 },
      code: 'PHASE_TOKEN_STALE',
      reason: 'OTHER_LEASE',
    },
    {
      name: 'lease lapsed, cancelled or terminated',
      current: { leaseLive: false },
      code: 'PHASE_TOKEN_STALE',
      reason: 'LEASE_ENDED',
    },
    {
      name: 'no lease any more',
      current: { fence: undefined, leaseLive: false, workerId: undefined },
      code: 'PHASE_TOKEN_STALE',
      reason: 'LEASE_ENDED',
    },
    {
      name: 'another worker',
      current: { workerId: 'wrk_2' },
      code: 'PHASE_TOKEN_STALE',
      reason: 'OTHER_WORKER',
    },
  ];

  it.each(cases)('$name → $code ($reason)', async ({ current, code, reason }) => {
    const claims = await tokens.verifyPhaseToken(await phaseToken());
    const err = thrown(() => checkPhaseClaims(claims, { ...facts, ...current }));
    expect(err).toMatchObject({ code, status: 401, retryable: false });
    expect(err.details['reason']).toBe(reason);
  });

  it('an old phase names the current one', async () => {
    const claims = await tokens.verifyPhaseToken(await phaseToken());
    const err = thrown(() => checkPhaseClaims(claims, { ...facts, phase: 'IMPL', epoch: 2 }));
    expect(err.details).toEqual({ reason: 'OLD_PHASE', currentPhase: 'IMPL' });
  });

  it("a refused token from another workspace tells nothing of that workspace's job", async () => {
    const claims = await tokens.verifyPhaseToken(await phaseToken({ workspaceId: 'other', phase: 'IMPL' }));
    const err = thrown(() => checkPhaseClaims(claims, facts));
    expect(err.details).toEqual({ reason: 'OTHER_WORKSPACE' });
  });

  it('check tokens: other workspace, other job, another claim, an ended lease', async () => {
    const claims = await tokens.verifyCheckToken(await checkToken());
    const refused = (current: Partial<PhaseFacts>) => {
      const err = thrown(() => checkCheckClaims(claims, { ...facts, ...current }));
      return [err.code, err.details['reason']];
    };
    expect(refused({ workspaceId: 'other' })).toEqual(['PHASE_TOKEN_INVALID', 'OTHER_WORKSPACE']);
    expect(refused({ jobId: 'job_2' })).toEqual(['PHASE_TOKEN_INVALID', 'OTHER_JOB']);
    expect(refused({ fence: 8 })).toEqual(['PHASE_TOKEN_STALE', 'OTHER_LEASE']);
    expect(refused({ leaseLive: false })).toEqual(['PHASE_TOKEN_STALE', 'LEASE_ENDED']);
  });
});

describe('expiry and refresh', () => {
  it('an expired phase token answers TOKEN_EXPIRED, past the clock tolerance only', async () => {
    const token = await phaseToken({ ttlSeconds: 60 });
    now = START + (60 + CLOCK_TOLERANCE_SECONDS - 1) * 1000;
    await expect(tokens.verifyPhaseToken(token)).resolves.toMatchObject({ phase: 'PLAN' });
    now = START + (60 + CLOCK_TOLERANCE_SECONDS) * 1000;
    const err = await refusal(tokens.verifyPhaseToken(token));
    expect(err.code).toBe('TOKEN_EXPIRED');
    expect(err.message).toContain('refresh');
  });

  it('refresh accepts it expired while the lease lives, and not once the lease is gone', async () => {
    const token = await phaseToken({ ttlSeconds: 60 });
    now = START + 3 * 24 * 3600 * 1000; // a human answered three days later
    const claims = await tokens.verifyPhaseToken(token, { allowExpired: true });
    expect(claims).toMatchObject({ job: 'job_1', phase: 'PLAN', fence: 7, exp: START / 1000 + 60 });
    expect(() => checkPhaseClaims(claims, facts)).not.toThrow();
    expect(thrown(() => checkPhaseClaims(claims, { ...facts, leaseLive: false })).code).toBe(
      'PHASE_TOKEN_STALE',
    );
  });

  it('allowExpired forgives expiry only: a forged, retyped or foreign expired token stays invalid', async () => {
    const expired = rawClaims({ iat: START / 1000 - 120, exp: START / 1000 - 60 });
    const cases = [
      await signedRaw({ ...expired, aud: 'someone-else' }),
      await signedRaw({ ...expired, iss: 'someone-else' }),
      await signedRaw(expired, { typ: CHECK_TOKEN_TYP }),
      await new SignJWT(expired)
        .setProtectedHeader({ alg: 'HS256', typ: PHASE_TOKEN_TYP })
        .sign(OTHER_SECRET),
      await signedRaw({ ...expired, fence: 'seven' }),
    ];
    await expect(
      tokens.verifyPhaseToken(await signedRaw(expired), { allowExpired: true }),
    ).resolves.toBeDefined();
    for (const token of cases)
      expect((await refusal(tokens.verifyPhaseToken(token, { allowExpired: true }))).code).toBe(
        'PHASE_TOKEN_INVALID',
      );
  });

  it('an expired check token answers TOKEN_EXPIRED', async () => {
    const token = await checkToken();
    now = leaseExpiresAt() + (CLOCK_TOLERANCE_SECONDS + 1) * 1000;
    expect((await refusal(tokens.verifyCheckToken(token))).code).toBe('TOKEN_EXPIRED');
  });
});

describe('forged and foreign tokens', () => {
  const invalid = async (token: string | Promise<string>, kind: 'phase' | 'check' = 'phase') => {
    const t = await token;
    const err = await refusal(kind === 'phase' ? tokens.verifyPhaseToken(t) : tokens.verifyCheckToken(t));
    expect(err).toMatchObject({ code: 'PHASE_TOKEN_INVALID', status: 401 });
    return err.details['reason'];
  };

  it('tampered: a payload byte changed under the old signature', async () => {
    const [header, payload, signature] = (await phaseToken()).split('.') as [string, string, string];
    const json = Buffer.from(payload, 'base64url').toString();
    expect(json).toContain('"fence":7');
    const forged = Buffer.from(json.replace('"fence":7', '"fence":8')).toString('base64url');
    expect(await invalid(`${header}.${forged}.${signature}`)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('tampered: re-signed with another secret', async () => {
    const foreign = new PhaseTokens({ secret: OTHER_SECRET }, clock);
    expect(await invalid((await foreign.mintPhaseToken(grant)).token)).toBe(
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    );
    const foreignCheck = await foreign.mintCheckToken({
      workspaceId: 'acme',
      jobId: 'job_1',
      fence: 7,
      expiresAt: leaseExpiresAt(),
    });
    expect(await invalid(foreignCheck.token, 'check')).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('alg none, crafted by hand, and other algorithms', async () => {
    const claims = rawClaims();
    const unsigned = `${b64url({ alg: 'none', typ: PHASE_TOKEN_TYP })}.${b64url(claims)}.`;
    expect(await invalid(unsigned)).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    expect(await invalid(new UnsecuredJWT(claims).encode())).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    // `None` with a valid HMAC over it: the algorithm is pinned, not read from the header.
    const head = `${b64url({ alg: 'None', typ: PHASE_TOKEN_TYP })}.${b64url(claims)}`;
    expect(await invalid(`${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`)).toBe(
      'ERR_JOSE_ALG_NOT_ALLOWED',
    );
    const hs512 = new SignJWT(claims).setProtectedHeader({ alg: 'HS512', typ: PHASE_TOKEN_TYP }).sign(SECRET);
    expect(await invalid(hs512)).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
  });

  it('an API token or a worker credential is not a phase token, nor a check token', async () => {
    const api = await createToken(
      { secret: SECRET },
      { sub: 'ci', workspaceId: 'acme', scopes: ['admin'], ttlSeconds: 600, now },
    );
    const worker = (
      await createWorkerCredential({ secret: SECRET }, { workspaceId: 'acme', workerId: 'wrk_1', now })
    ).token;
    for (const token of [api, worker]) {
      expect(await invalid(token)).toBe('ERR_WRONG_TYP');
      expect(await invalid(token, 'check')).toBe('ERR_WRONG_TYP');
    }
  });

  it('a phase token is not a check token, and a check token not a phase token', async () => {
    expect(await invalid(phaseToken(), 'check')).toBe('ERR_WRONG_TYP');
    expect(await invalid(checkToken())).toBe('ERR_WRONG_TYP');
    // The same claims under the other typ: the typ alone decides.
    expect(await invalid(signedRaw(rawClaims(), { typ: CHECK_TOKEN_TYP }))).toBe('ERR_WRONG_TYP');
  });

  it('the Authenticator takes a phase or check token as a principal of its own kind, holding no scope', async () => {
    const auth = new Authenticator({ secret: SECRET }, clock);
    const phase = await auth.authenticate(await phaseToken());
    expect(phase).toMatchObject({
      sub: grant.workerId,
      workspaceId: grant.workspaceId,
      scopes: [],
      workerId: grant.workerId,
    });
    expect(phase.phase).toMatchObject({
      job: grant.jobId,
      phase: grant.phase,
      epoch: grant.epoch,
      fence: grant.fence,
    });
    expect(phase.check).toBeUndefined();
    const check = await auth.authenticate(await checkToken());
    expect(check).toMatchObject({ workspaceId: grant.workspaceId, scopes: [] });
    expect(check.check).toMatchObject({ job: grant.jobId, fence: grant.fence });
    expect(check.workerId).toBeUndefined();
    // Expired, a phase token is still a principal, flagged (only tokens.refresh takes it); a check token is not.
    const expired = await phaseToken({ ttlSeconds: 60 });
    const expiredCheck = await checkToken();
    now = START + 3_600_000;
    expect(await auth.authenticate(expired)).toMatchObject({ expired: true });
    expect((await refusal(auth.authenticate(expiredCheck))).code).toBe('TOKEN_EXPIRED');
    // With the claims an API token carries, a phase typ is still judged as a phase token: invalid.
    const lookalike = await signedRaw({ ...rawClaims(), sub: 'wrk_1', scopes: ['admin'] });
    expect((await auth.authenticate(lookalike)).scopes).toEqual([]);
    const apiShaped = await signedRaw({
      sub: 'x',
      ws: 'acme',
      scopes: ['admin'],
      iss: 'overseer',
      aud: 'overseer-api',
      iat: 1,
      exp: 9_999_999_999,
    });
    expect((await refusal(auth.authenticate(apiShaped))).code).toBe('PHASE_TOKEN_INVALID');
  });

  it('a phase or check token opens only the commands that take it; an API token not those that take only them', () => {
    const phase = { sub: 'w', workspaceId: 'acme', scopes: [], phase: {} as never };
    const check = { sub: 'c', workspaceId: 'acme', scopes: [], check: {} as never };
    const api = { sub: 'a', workspaceId: 'acme', scopes: ['admin'] as const };
    const plain = { name: 'jobs.get', tokens: undefined };
    const transition = { name: 'workflow.transition', tokens: { phase: true } as const };
    const snapshot = { name: 'state.snapshot', tokens: { phase: true, check: true } as const };
    const refresh = {
      name: 'tokens.refresh',
      tokens: { phase: true, expiredPhase: true, apiTokens: true } as const,
    };
    expect(thrown(() => admitTokenKind(phase, plain)).code).toBe('PHASE_TOKEN_INVALID');
    expect(thrown(() => admitTokenKind(check, transition)).code).toBe('PHASE_TOKEN_INVALID');
    expect(thrown(() => admitTokenKind(api, transition)).code).toBe('PHASE_TOKEN_INVALID');
    expect(thrown(() => admitTokenKind({ ...phase, expired: true }, transition)).code).toBe('TOKEN_EXPIRED');
    expect(admitTokenKind(phase, transition)).toBe(true);
    expect(admitTokenKind(check, snapshot)).toBe(true);
    expect(admitTokenKind({ ...phase, expired: true }, refresh)).toBe(true);
    expect(admitTokenKind(api, refresh)).toBe(false);
    expect(admitTokenKind(api, plain)).toBe(false);
  });

  it('a gateway routes phase and check tokens by their workspace, leaving verification to the data node', async () => {
    const phase = unverifiedPrincipal(await phaseToken());
    expect(phase).toMatchObject({
      sub: grant.workerId,
      workspaceId: grant.workspaceId,
      scopes: [],
      workerId: grant.workerId,
    });
    expect(phase.phase).toMatchObject({ job: grant.jobId, phase: grant.phase });
    expect(unverifiedPrincipal(await checkToken()).check).toMatchObject({ job: grant.jobId });
    const { ws: _ws, ...noWs } = rawClaims();
    const unrouted = await signedRaw(noWs);
    expect(thrown(() => unverifiedPrincipal(unrouted)).code).toBe('PHASE_TOKEN_INVALID');
  });

  it('missing or ill-typed claims', async () => {
    const omit = (key: string) => {
      const c: Record<string, unknown> = rawClaims();
      delete c[key];
      return c;
    };
    for (const key of ['ws', 'job', 'wrk', 'phase', 'fence', 'epoch']) await invalid(signedRaw(omit(key)));
    for (const key of ['exp', 'iat', 'jti']) await invalid(signedRaw(omit(key)));
    for (const patch of [
      { fence: '7' },
      { epoch: -1 },
      { epoch: 1.5 },
      { ws: 'Not A Workspace' },
      { phase: '1-not-a-phase' },
      { job: '' },
      { exp: START / 1000 + 604_801 }, // longer than any workflow lets a phase token live
    ])
      await invalid(signedRaw(rawClaims(patch)));
    await invalid('not.a.jwt');
  });

  it('no token at all answers UNAUTHENTICATED', async () => {
    expect((await refusal(tokens.verifyPhaseToken(undefined))).code).toBe('UNAUTHENTICATED');
    expect((await refusal(tokens.verifyCheckToken(''))).code).toBe('UNAUTHENTICATED');
  });
});
