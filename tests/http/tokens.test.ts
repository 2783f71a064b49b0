/**
 * Bearer tokens: hostile and malformed ones answer 401 with the envelope; the header limits over a real socket;
 * the verified-token cache (expiry on a hit, 60 s at most, LRU of 10,000).
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN_TYP, Authenticator, createToken } from '../../src/api/auth.ts';
import { isOverseerError } from '../../src/core/errors.ts';
import {
  TEST_SECRET,
  WRONG_SECRET,
  b64url,
  call,
  expectEnvelope,
  freshWs,
  goodClaims,
  mint,
  rawToken,
  socketRequest,
  startServer,
  type App,
  type TestServer,
} from './support.ts';

const WS = 'tokens';
const SCOPES = ['jobs:read'] as const;
const HEADER = { alg: 'HS256', typ: API_TOKEN_TYP };
const nowS = () => Math.floor(Date.now() / 1000);

/** A compact JWS built by hand: any header, any payload text, any signature. */
const craft = (header: unknown, payload: unknown, signature = '') =>
  `${b64url(typeof header === 'string' ? header : JSON.stringify(header))}.${b64url(
    typeof payload === 'string' ? payload : JSON.stringify(payload),
  )}.${signature}`;
/** A valid HS256 signature with the server's key over whatever header and payload (alg confusion). */
const hmacOver = (header: unknown, payload: unknown) => {
  const unsigned = craft(header, payload).slice(0, -1);
  return `${unsigned}.${createHmac('sha256', TEST_SECRET).update(unsigned).digest('base64url')}`;
};
const claims = (patch: Record<string, unknown> = {}) => ({ ...goodClaims(WS, SCOPES), ...patch });
const without = (...keys: string[]) => {
  const c: Record<string, unknown> = claims();
  for (const k of keys) delete c[k];
  return c;
};
const signed = (c: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  rawToken({ claims: c, header });
const segments = (token: string) => token.split('.') as [string, string, string];
const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

/** Exactly 16 KiB, shaped like a JWT. */
const GARBAGE_16K = `${'a'.repeat(8000)}.${'b'.repeat(8000)}.${'c'.repeat(382)}`;

interface Hostile {
  name: string;
  /** The whole Authorization header value, or a token sent as `Bearer <token>`. */
  make: () => { authorization: string } | string | Promise<{ authorization: string } | string>;
  code?: 'TOKEN_EXPIRED' | 'PHASE_TOKEN_INVALID';
}

const good = () => mint({ ws: WS, scopes: SCOPES });

const hostile: Hostile[] = [
  // algorithms
  { name: 'alg none (UnsecuredJWT)', make: () => new UnsecuredJWT(claims()).encode() },
  {
    name: 'alg none with the API typ',
    make: () => craft({ alg: 'none', typ: API_TOKEN_TYP }, claims()),
  },
  {
    name: 'alg None with a valid HMAC',
    make: () => hmacOver({ alg: 'None', typ: API_TOKEN_TYP }, claims()),
  },
  {
    name: 'alg NONE with a valid HMAC',
    make: () => hmacOver({ alg: 'NONE', typ: API_TOKEN_TYP }, claims()),
  },
  {
    name: 'alg hs256 (lowercase)',
    make: () => hmacOver({ alg: 'hs256', typ: API_TOKEN_TYP }, claims()),
  },
  { name: 'HS384 with the right key', make: () => signed(claims(), { alg: 'HS384' }) },
  { name: 'HS512 with the right key', make: () => signed(claims(), { alg: 'HS512' }) },
  {
    name: 'RS256 header, HMAC signature',
    make: () => hmacOver({ alg: 'RS256', typ: API_TOKEN_TYP }, claims()),
  },
  {
    name: 'ES256 header, HMAC signature',
    make: () => hmacOver({ alg: 'ES256', typ: API_TOKEN_TYP }, claims()),
  },
  {
    name: 'PS256 header, HMAC signature',
    make: () => hmacOver({ alg: 'PS256', typ: API_TOKEN_TYP }, claims()),
  },
  { name: 'no alg, HMAC signature', make: () => hmacOver({ typ: API_TOKEN_TYP }, claims()) },
  // keys and signatures
  { name: 'wrong key', make: () => rawToken({ claims: claims(), secret: WRONG_SECRET }) },
  {
    name: 'weak guessed key "secret"',
    make: () => rawToken({ claims: claims(), secret: new TextEncoder().encode('secret') }),
  },
  {
    name: 'prefix of the right key',
    make: () => rawToken({ claims: claims(), secret: TEST_SECRET.slice(0, 16) }),
  },
  {
    name: 'embedded jwk header with its own key',
    make: () =>
      rawToken({
        claims: claims(),
        header: { jwk: { kty: 'oct', k: b64url(WRONG_SECRET) } },
        secret: WRONG_SECRET,
      }),
  },
  {
    name: 'tampered payload: scopes raised to admin',
    make: async () => {
      const [h, , sig] = segments(await good());
      return `${h}.${b64url(JSON.stringify(claims({ scopes: ['admin'] })))}.${sig}`;
    },
  },
  {
    name: 'tampered payload: another workspace',
    make: async () => {
      const [h, , sig] = segments(await good());
      return `${h}.${b64url(JSON.stringify(claims({ ws: 'victim' })))}.${sig}`;
    },
  },
  {
    name: 'tampered payload: exp pushed out',
    make: async () => {
      const [h, , sig] = segments(await good());
      return `${h}.${b64url(JSON.stringify(claims({ exp: nowS() + 10 * 365 * 86400 })))}.${sig}`;
    },
  },
  {
    name: 'tampered header: kid added',
    make: async () => {
      const [, p, sig] = segments(await good());
      return `${b64url(JSON.stringify({ ...HEADER, kid: 'x' }))}.${p}.${sig}`;
    },
  },
  {
    name: 'tampered signature (one character)',
    make: async () => {
      const [h, p, sig] = segments(await good());
      return `${h}.${p}.${flip(sig, 5)}`;
    },
  },
  {
    name: 'truncated signature',
    make: async () => {
      const [h, p, sig] = segments(await good());
      return `${h}.${p}.${sig.slice(0, 20)}`;
    },
  },
  {
    name: 'signature removed',
    make: async () => {
      const [h, p] = segments(await good());
      return `${h}.${p}.`;
    },
  },
  {
    name: "another token's signature",
    make: async () => {
      const [h, p] = segments(await good());
      const [, , other] = segments(await mint({ ws: 'other', scopes: ['admin'] }));
      return `${h}.${p}.${other}`;
    },
  },
  {
    name: 'swapped segments (payload.header.signature)',
    make: async () => {
      const [h, p, sig] = segments(await good());
      return `${p}.${h}.${sig}`;
    },
  },
  {
    name: 'two segments',
    make: async () =>
      segments(await good())
        .slice(0, 2)
        .join('.'),
  },
  { name: 'four segments', make: async () => `${await good()}.AAAA` },
  { name: 'five segments (JWE-shaped)', make: async () => `${await good()}.AAAA.BBBB` },
  { name: 'header is not JSON', make: () => hmacOver('not json', claims()) },
  { name: 'payload is not JSON', make: () => hmacOver(HEADER, 'not json') },
  { name: 'payload is a JSON array', make: () => hmacOver(HEADER, [claims()]) },
  {
    name: 'unknown critical header',
    make: () => hmacOver({ ...HEADER, crit: ['x-overseer-bypass'], 'x-overseer-bypass': true }, claims()),
  },
  {
    name: 'unencoded payload (b64: false)',
    make: () => hmacOver({ ...HEADER, b64: false, crit: ['b64'] }, claims()),
  },
  // time
  { name: 'expired an hour ago', make: () => signed(claims({ exp: nowS() - 3600 })), code: 'TOKEN_EXPIRED' },
  {
    name: 'expired 45 s ago (beyond the 30 s tolerance)',
    make: () => signed(claims({ exp: nowS() - 45 })),
    code: 'TOKEN_EXPIRED',
  },
  {
    name: 'minted expired by createToken',
    make: () => mint({ ws: WS, scopes: SCOPES, ttlSeconds: -120 }),
    code: 'TOKEN_EXPIRED',
  },
  { name: 'nbf an hour ahead', make: () => signed(claims({ nbf: nowS() + 3600 })) },
  { name: 'nbf 45 s ahead (beyond the tolerance)', make: () => signed(claims({ nbf: nowS() + 45 })) },
  { name: 'missing exp', make: () => signed(without('exp')) },
  { name: 'exp as a string', make: () => signed(claims({ exp: String(nowS() + 3600) })) },
  { name: 'exp null', make: () => signed(claims({ exp: null })) },
  { name: 'iat as a string', make: () => signed(claims({ iat: 'yesterday' })) },
  // claims
  { name: 'missing sub', make: () => signed(without('sub')) },
  { name: 'empty sub', make: () => signed(claims({ sub: '' })) },
  { name: 'sub a number', make: () => signed(claims({ sub: 42 })) },
  { name: 'sub over 256 characters', make: () => signed(claims({ sub: 'x'.repeat(300) })) },
  { name: 'missing ws', make: () => signed(without('ws')) },
  { name: 'invalid ws (spaces, capitals)', make: () => signed(claims({ ws: 'Bad WS' })) },
  { name: 'ws path traversal', make: () => signed(claims({ ws: '../admin' })) },
  { name: 'ws a number', make: () => signed(claims({ ws: 7 })) },
  { name: 'missing scopes', make: () => signed(without('scopes')) },
  { name: 'scopes a string', make: () => signed(claims({ scopes: 'admin' })) },
  { name: 'unknown scope', make: () => signed(claims({ scopes: ['jobs:read', 'root'] })) },
  { name: 'more than 16 scopes', make: () => signed(claims({ scopes: Array(17).fill('jobs:read') })) },
  { name: 'nested scopes', make: () => signed(claims({ scopes: [['admin']] })) },
  { name: 'wrong issuer', make: () => signed(claims({ iss: 'evil' })) },
  { name: 'missing issuer', make: () => signed(without('iss')) },
  { name: 'wrong audience', make: () => signed(claims({ aud: 'overseer-nats' })) },
  { name: 'missing audience', make: () => signed(without('aud')) },
  { name: 'audience list without ours', make: () => signed(claims({ aud: ['a', 'b'] })) },
  // typ
  {
    name: 'phase token typ',
    make: () => signed(claims(), { typ: 'overseer-phase+jwt' }),
    code: 'PHASE_TOKEN_INVALID',
  },
  { name: 'typ JWT', make: () => signed(claims(), { typ: 'JWT' }) },
  { name: 'no typ', make: () => hmacOver({ alg: 'HS256' }, claims()) },
  // the header itself
  { name: 'empty Authorization header', make: () => ({ authorization: '' }) },
  { name: "'Bearer' only", make: () => ({ authorization: 'Bearer' }) },
  { name: "'Bearer ' with nothing after", make: () => ({ authorization: 'Bearer    ' }) },
  { name: 'Basic scheme', make: () => ({ authorization: `Basic ${b64url('user:pass')}` }) },
  { name: 'a token without a scheme', make: async () => ({ authorization: await good() }) },
  { name: 'Token scheme', make: async () => ({ authorization: `Token ${await good()}` }) },
  { name: 'two tokens', make: async () => ({ authorization: `Bearer ${await good()} ${await good()}` }) },
  {
    name: 'comma-joined tokens',
    make: async () => ({ authorization: `Bearer ${await good()},${await good()}` }),
  },
  { name: 'non-base64 segments', make: () => '!!!.@@@.###' },
  { name: 'plain garbage', make: () => 'garbage' },
  { name: 'three empty segments', make: () => '..' },
  { name: '8 KiB of garbage', make: () => 'a'.repeat(8 * 1024) },
  { name: '16 KiB JWT-shaped garbage', make: () => GARBAGE_16K },
  {
    name: '16 KiB token signed with the wrong key',
    make: () => rawToken({ claims: claims({ pad: 'x'.repeat(11_800) }), secret: WRONG_SECRET }),
  },
];

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

const get = (auth: { authorization: string } | string) =>
  call(s.app, {
    method: 'GET',
    url: '/api/jobs',
    ...(typeof auth === 'string' ? { token: auth } : auth),
  });

describe('hostile and malformed tokens answer 401 with the envelope', () => {
  it('has at least 40 of them', () => {
    expect(hostile.length).toBeGreaterThanOrEqual(40);
    expect(new Set(hostile.map((h) => h.name)).size).toBe(hostile.length);
  });

  it('the honest token they are built from is accepted', async () => {
    expect((await get(await good())).status).toBe(200);
    expect((await get(await signed(claims()))).status).toBe(200);
  });

  for (const h of hostile) {
    it(h.name, async () => {
      const auth = await h.make();
      if (typeof auth === 'string' && h.name.includes('16 KiB'))
        expect(auth.length).toBeGreaterThan(15 * 1024);
      const res = await get(auth);
      expectEnvelope(res, 401, h.code ?? 'UNAUTHENTICATED');
      // Refused tokens are not cached: a second try is refused too.
      expectEnvelope(await get(auth), 401, h.code ?? 'UNAUTHENTICATED');
    });
  }
});

describe('tokens that are accepted', () => {
  it('expired within the 30 s tolerance', async () => {
    expect((await get(await signed(claims({ exp: nowS() - 10 })))).status).toBe(200);
  });
  it('nbf within the tolerance', async () => {
    expect((await get(await signed(claims({ nbf: nowS() + 10 })))).status).toBe(200);
  });
  it('lowercase and uppercase scheme, extra spaces', async () => {
    const token = await good();
    for (const authorization of [`bearer ${token}`, `BEARER ${token}`, `Bearer   ${token}  `])
      expect((await get({ authorization })).status, authorization).toBe(200);
  });
  it('the audience in a list', async () => {
    expect((await get(await signed(claims({ aud: ['other', 'overseer-api'] })))).status).toBe(200);
  });
});

describe('header limits over a real socket', () => {
  let app: App;
  let port: number;
  beforeAll(async () => {
    app = s.app;
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  it('a 16 KiB bearer token gets through the header limit: 401 envelope when bad, 200 when good', async () => {
    const bad = GARBAGE_16K;
    expect(bad.length).toBe(16 * 1024);
    const res = await socketRequest(port, { path: '/api/jobs', headers: { authorization: `Bearer ${bad}` } });
    expectEnvelope(res, 401, 'UNAUTHENTICATED');

    const big = await rawToken({ claims: claims({ pad: 'x'.repeat(12_000) }) });
    expect(big.length).toBeGreaterThan(15 * 1024);
    expect(big.length).toBeLessThanOrEqual(16 * 1024);
    const ok = await socketRequest(port, { path: '/api/jobs', headers: { authorization: `Bearer ${big}` } });
    expect(ok.status, ok.text).toBe(200);
  });

  it('a 32 KiB Authorization header answers 431 HEADERS_TOO_LARGE in the envelope', async () => {
    const res = await socketRequest(port, {
      path: '/api/jobs',
      headers: { authorization: `Bearer ${'a'.repeat(32 * 1024)}` },
    });
    expectEnvelope(res, 431, 'HEADERS_TOO_LARGE');
  });

  it('a 32 KiB other header answers 431 too, also on public routes', async () => {
    for (const path of ['/api/jobs', '/healthz', '/nope']) {
      const res = await socketRequest(port, { path, headers: { 'x-padding': 'p'.repeat(32 * 1024) } });
      expectEnvelope(res, 431, 'HEADERS_TOO_LARGE');
    }
  });

  it('a request that is not HTTP answers 400 in the envelope', async () => {
    const { connect } = await import('node:net');
    const text = await new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () => sock.write('NOT HTTP AT ALL\r\n\r\n'));
      let out = '';
      sock.on('data', (d: Buffer) => (out += d.toString()));
      sock.on('end', () => resolve(out));
      sock.on('error', reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 400/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    expect(body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('the verified-token cache', () => {
  /** An authenticator whose key can be wiped, to tell a cache hit (still accepted) from a re-verification. */
  const setup = (start: number) => {
    const secret = new Uint8Array(TEST_SECRET);
    const clock = { now: start };
    const auth = new Authenticator({ secret }, () => clock.now);
    return { auth, clock };
  };
  const token = (now: number, ttlSeconds: number, sub = 'cache') =>
    createToken({ secret: TEST_SECRET }, { sub, workspaceId: WS, scopes: ['jobs:read'], ttlSeconds, now });
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'OK';
    } catch (err) {
      return isOverseerError(err) ? err.code : String(err);
    }
  };

  it('a cached token that expires is refused on a hit (TOKEN_EXPIRED)', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const { auth, clock } = setup(t0);
    const tok = await token(t0, 20);
    expect((await auth.authenticate(tok)).workspaceId).toBe(WS);
    expect(auth.cached).toBe(1);
    clock.now = t0 + 10_000;
    expect(await code(auth.authenticate(tok))).toBe('OK');
    expect(auth.verifications).toBe(1); // the cache accepted it
    clock.now = t0 + 20_000 + 30_000; // exp + tolerance
    expect(await code(auth.authenticate(tok))).toBe('TOKEN_EXPIRED');
    expect(auth.verifications).toBe(1); // refused on the hit, not by verifying again
    expect(auth.cached).toBe(0);
  });

  it('keeps an entry until min(exp, now + 60 s), then verifies again', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const { auth, clock } = setup(t0);
    const tok = await token(t0, 3600);
    await auth.authenticate(tok);
    expect(auth.verifications).toBe(1);
    clock.now = t0 + 59_000;
    expect(await code(auth.authenticate(tok))).toBe('OK');
    expect(auth.verifications).toBe(1);
    clock.now = t0 + 61_000;
    expect(await code(auth.authenticate(tok))).toBe('OK');
    expect(auth.verifications).toBe(2);
  });

  it('within the tolerance after exp, a re-verification still accepts, then refuses', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const { auth, clock } = setup(t0);
    const tok = await token(t0, 20);
    await auth.authenticate(tok);
    clock.now = t0 + 40_000; // past exp and past keepUntil (= exp), within tolerance
    expect(await code(auth.authenticate(tok))).toBe('OK');
    clock.now = t0 + 51_000;
    expect(await code(auth.authenticate(tok))).toBe('TOKEN_EXPIRED');
  });

  it('is an LRU bounded at 10,000 entries', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const { auth } = setup(t0);
    const tokens = await Promise.all(Array.from({ length: 10_001 }, (_, i) => token(t0, 3600, `u${i}`)));
    for (let i = 0; i < 10_000; i++) await auth.authenticate(tokens[i]);
    expect(auth.cached).toBe(10_000);
    await auth.authenticate(tokens[0]); // most recently used now
    await auth.authenticate(tokens[10_000]); // evicts the least recently used: tokens[1]
    expect(auth.cached).toBe(10_000);
    const verified = auth.verifications;
    for (const i of [0, 10_000, 2]) expect(await code(auth.authenticate(tokens[i]))).toBe('OK');
    expect(auth.verifications).toBe(verified); // all three answered from the cache
    expect(await code(auth.authenticate(tokens[1]))).toBe('OK');
    expect(auth.verifications).toBe(verified + 1); // the evicted one was verified again
  }, 30_000);

  it('a hit still checks scope and workspace (HTTP)', async () => {
    const a = freshWs('a');
    const b = freshWs('b');
    const jobA = await s.client(a).jobs.submit({ title: 'in a' });
    const reader = await mint({ ws: b, scopes: ['jobs:read'] });
    expect((await call(s.app, { method: 'GET', url: '/api/jobs', token: reader })).status).toBe(200);
    expect(s.authenticator.cached).toBeGreaterThan(0);
    expectEnvelope(
      await call(s.app, { method: 'POST', url: '/api/jobs', token: reader, body: { title: 'x' } }),
      403,
      'INSUFFICIENT_SCOPE',
    );
    expectEnvelope(await call(s.app, { method: 'GET', url: `/api/jobs/${jobA.id}`, token: reader }), 404);
    expectEnvelope(
      await call(s.app, {
        method: 'GET',
        url: `/api/jobs/${jobA.id}`,
        token: reader,
        query: { workspaceId: a },
      }),
      404,
    );
  });

  it('a cached token that expires is refused over HTTP', async () => {
    const clock = { now: Date.now() };
    const t = await startServer({ authNow: () => clock.now });
    try {
      const tok = await mint({ ws: WS, scopes: ['jobs:read'], ttlSeconds: 5, now: clock.now });
      expect((await call(t.app, { method: 'GET', url: '/api/jobs', token: tok })).status).toBe(200);
      clock.now += 36_000;
      expectEnvelope(
        await call(t.app, { method: 'GET', url: '/api/jobs', token: tok }),
        401,
        'TOKEN_EXPIRED',
      );
    } finally {
      await t.close();
    }
  });
});
