import { describe, expect, it } from 'vitest';
import { subjectMatcher, subjects } from '../../src/transport/subjects.ts';
import { mulberry32 } from '../support/prng.ts';

/** The plain definition: split both, compare token by token. */
function reference(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

describe('subject matching', () => {
  it('matches NATS-style wildcards', () => {
    const cases: [string, string, boolean][] = [
      ['overseer.evt.acme.>', 'overseer.evt.acme.job.job_1.QUEUED', true],
      ['overseer.evt.acme.>', 'overseer.evt.acme', false],
      ['overseer.evt.acme.>', 'overseer.evt.acmex.job.job_1.QUEUED', false],
      ['overseer.evt.*.job.>', 'overseer.evt.acme.job.job_1.QUEUED', true],
      ['overseer.evt.*.job.>', 'overseer.evt.acme.worker.w.IDLE', false],
      ['overseer.evt.*.*.*.COMPLETED', 'overseer.evt.acme.job.job_1.COMPLETED', true],
      ['overseer.evt.*.*.*.COMPLETED', 'overseer.evt.acme.job.job_1.COMPLETED.x', false],
      ['overseer.evt.*.*.*.COMPLETED', 'overseer.evt.acme.job.COMPLETED', false],
      ['a.b', 'a.b', true],
      ['a.b', 'a.bc', false],
      ['>', 'anything.at.all', true],
      ['*', 'one', true],
      ['*', 'one.two', false],
    ];
    for (const [pattern, subject, expected] of cases) {
      expect([pattern, subject, subjectMatcher(pattern)(subject)]).toEqual([pattern, subject, expected]);
    }
  });

  it('agrees with the split-and-compare definition on 20,000 seeded random pairs', () => {
    const random = mulberry32(20261201);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const words = ['a', 'b', 'ab', 'acme', 'job', '', 'x.y'];
    const make = (wild: boolean) =>
      Array.from({ length: 1 + Math.floor(random() * 5) }, () =>
        wild && random() < 0.3 ? pick(['*', '>']) : pick(words),
      ).join('.');
    for (let i = 0; i < 20_000; i++) {
      const pattern = make(true);
      const subject = random() < 0.1 ? pattern : make(false);
      const matcher = subjectMatcher(pattern);
      expect([pattern, subject, matcher(subject)]).toEqual([pattern, subject, reference(pattern, subject)]);
    }
  });
});

describe('the workspace of a subject', () => {
  it('is the token that subjects.command and subjects.event put there', () => {
    expect(subjects.workspaceOf(subjects.command('acme', 'jobs.submit'))).toBe('acme');
    expect(subjects.workspaceOf(subjects.event('beta-2', 'job', 'job_1', 'QUEUED'))).toBe('beta-2');
    expect(subjects.workspaceOf('overseer.cmd')).toBe('');
  });
});
