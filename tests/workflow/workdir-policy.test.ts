// The pure workdir decision: containment by whole path segments, fail closed on what cannot be resolved.
import { describe, expect, it } from 'vitest';
import { liesUnder, workdirProblem } from '../../src/domain/workflow/workdir-policy.ts';

describe('liesUnder', () => {
  it('takes the root itself and paths below it, never a sibling sharing a prefix', () => {
    expect(liesUnder('/srv/work', '/srv/work')).toBe(true);
    expect(liesUnder('/srv/work/a/b', '/srv/work')).toBe(true);
    expect(liesUnder('/srv/workshop', '/srv/work')).toBe(false);
    expect(liesUnder('/srv', '/srv/work')).toBe(false);
    expect(liesUnder('/anything', '/')).toBe(true);
    expect(liesUnder('C:\\work\\repo', 'C:\\work', '\\')).toBe(true);
    expect(liesUnder('C:\\workshop', 'C:\\work', '\\')).toBe(false);
  });
});

describe('workdirProblem', () => {
  const ask = (real: string | null, roots: string[], workflowJob = true, absolute = true) =>
    workdirProblem({ workdir: '/w', facts: { absolute, real }, roots, workflowJob });

  it('accepts a real path under a root', () => {
    expect(ask('/srv/work/repo', ['/data', '/srv/work'])).toBeNull();
  });

  it('refuses what is outside, unresolvable or relative, and a workflow job when no root is configured', () => {
    expect(ask('/etc', ['/srv/work'])).toContain('does not lie under workflow.workdirRoots: /srv/work');
    expect(ask(null, ['/srv/work'])).toContain('cannot be resolved');
    expect(ask('/srv/work', ['/srv/work'], true, false)).toContain('not an absolute path');
    expect(ask('/srv/work', [])).toContain('no workflow.workdirRoots configured');
    expect(ask('/anywhere', [], false)).toBeNull();
  });
});
