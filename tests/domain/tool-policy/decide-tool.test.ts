import { describe, expect, it } from 'vitest';
import { PhaseToolPolicySchema } from '../../../src/contracts/tool-policy.ts';
import { DEFAULT_PHASE_POLICIES } from '../../../src/domain/tool-policy/default-policies.ts';
import { decideTool, type ToolFacts } from '../../../src/domain/tool-policy/decide-tool.ts';
import { normaliseToolPath } from '../../../src/domain/tool-policy/path-rules.ts';

const TDD = PhaseToolPolicySchema.parse(DEFAULT_PHASE_POLICIES.TDD);
const facts = (paths: ToolFacts['paths'] = {}): ToolFacts => ({
  root: '/job',
  realRoot: '/job',
  protectedPaths: ['/job/.overseer'],
  paths,
});
const file = (realPath: string) => ({ realPath, type: 'file' as const, links: 1 });

describe('decideTool (pure, with hand-made facts)', () => {
  it('every default phase policy is a valid PhaseToolPolicy', () => {
    for (const p of Object.values(DEFAULT_PHASE_POLICIES))
      expect(() => PhaseToolPolicySchema.parse(p)).not.toThrow();
  });

  it('allows a test write whose facts agree', () => {
    const v = decideTool({
      policy: TDD,
      mode: 'strict',
      tool: { name: 'Write', input: { file_path: 'tests/a.test.ts', content: '' } },
      facts: facts({ 'tests/a.test.ts': file('/job/tests/a.test.ts') }),
    });
    expect(v).toEqual({
      decision: 'allow',
      policyDecision: 'allow',
      rule: 'kind.allowed',
      reason: expect.any(String),
    });
  });

  it('fails closed when the adapter brought no facts for a path', () => {
    const v = decideTool({
      policy: TDD,
      mode: 'strict',
      tool: { name: 'Write', input: { file_path: 'tests/a.test.ts', content: '' } },
      facts: facts(),
    });
    expect([v.decision, v.rule]).toEqual(['deny', 'path.no-facts']);
  });

  it('fails closed when a Bash call comes without its parse', () => {
    const v = decideTool({
      policy: TDD,
      mode: 'strict',
      tool: { name: 'Bash', input: { command: 'npm test' } },
      facts: facts(),
    });
    expect([v.decision, v.rule]).toEqual(['deny', 'command.unparsable']);
  });

  it('denies a sh -c script the adapter did not parse', () => {
    const words = ['bash', '-c', 'npm test'].map((value) => ({ value, glob: false, subs: [] }));
    const v = decideTool({
      policy: TDD,
      mode: 'strict',
      tool: { name: 'Bash', input: { command: 'bash -c "npm test"' } },
      facts: {
        ...facts(),
        command: { ok: true, script: [{ type: 'command', assigns: [], words, redirects: [] }] },
      },
    });
    expect([v.decision, v.rule]).toEqual(['deny', 'command.shell-script']);
  });

  it('permissive mode allows a refusal, keeps its rule and marks it', () => {
    const v = decideTool({
      policy: TDD,
      mode: 'permissive',
      tool: { name: 'Write', input: { file_path: 'src/a.ts', content: '' } },
      facts: facts({ 'src/a.ts': file('/job/src/a.ts') }),
    });
    expect(v).toMatchObject({
      decision: 'allow',
      policyDecision: 'deny',
      rule: 'path.write-not-allowed',
      wouldDeny: true,
    });
  });
});

describe('normaliseToolPath', () => {
  const cases: [string, string | null][] = [
    ['a/b', 'a/b'],
    ['./a//b/.', 'a/b'],
    ['a/../b', 'b'],
    ['..', null],
    ['a/../../b', null],
    ['/job/a', 'a'],
    ['/job', ''],
    ['/job-x/a', null],
    ['/jo', null],
    ['/job/../job/a', 'a'],
    ['%2e%2e/a', '%2e%2e/a'],
    ['a\\..\\..\\b', 'a\\..\\..\\b'],
  ];
  for (const [raw, expected] of cases)
    it(`"${raw}" → ${expected === null ? 'refused' : `"${expected}"`}`, () => {
      const n = normaliseToolPath(raw, '/job');
      expect(n.ok ? n.relative : null).toBe(expected);
    });
  it('refuses NUL, ~ and the empty path with their rules', () => {
    expect(normaliseToolPath('a\0b', '/job')).toMatchObject({ ok: false, rule: 'path.nul' });
    expect(normaliseToolPath('~/x', '/job')).toMatchObject({ ok: false, rule: 'path.home' });
    expect(normaliseToolPath('', '/job')).toMatchObject({ ok: false, rule: 'path.empty' });
  });
});
