import { randomBytes } from 'node:crypto';

/** Prefixes of the minted, time-sortable ids. */
export const IdPrefix = {
  WORKER: 'wrk',
  JOB: 'job',
  WORKSTREAM: 'wst',
  SESSION: 'ses',
  MESSAGE: 'msg',
  EVENT: 'evt',
} as const;
export type IdPrefix = (typeof IdPrefix)[keyof typeof IdPrefix];

export type WorkerId = string & { readonly __brand: 'WorkerId' };
export type JobId = string & { readonly __brand: 'JobId' };
export type WorkstreamId = string & { readonly __brand: 'WorkstreamId' };
export type SessionId = string & { readonly __brand: 'SessionId' };

/** Mints prefixed ids that sort in creation order (`job_01J…`). */
export interface IdGenerator {
  next(prefix: IdPrefix): string;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/**
 * A monotonic ULID generator: 48 bits of time then 80 bits of randomness, incremented within one millisecond
 * (and when the clock steps back) so that ids minted by one process always sort in minting order.
 */
export function createUlidGenerator(
  now: () => number,
  random: (n: number) => Uint8Array = randomBytes,
): IdGenerator {
  let lastTime = -1;
  const rand = new Uint8Array(16); // 16 base-32 digits, one per byte (values 0–31)
  return {
    next(prefix) {
      let t = now();
      if (t <= lastTime) {
        t = lastTime;
        let i = 15;
        while (i >= 0 && rand[i] === 31) rand[i--] = 0;
        if (i < 0) t = lastTime = t + 1;
        else rand[i]!++;
      } else {
        lastTime = t;
        const bytes = random(16);
        for (let i = 0; i < 16; i++) rand[i] = bytes[i]! & 31;
        rand[0]! &= 15; // leave headroom so increments rarely overflow
      }
      let r = '';
      for (let i = 0; i < 16; i++) r += ALPHABET[rand[i]!]!;
      return `${prefix}_${encodeTime(t)}${r}`;
    },
  };
}
