import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateWorkflow, type WorkflowProblem } from '../../src/domain/workflow/validate-workflow.ts';
import { ROOT } from '../../scripts/gen.ts';

const defaultYaml = readFileSync(join(ROOT, 'workflows', 'default.yaml'), 'utf8');
const problems = (text: string): WorkflowProblem[] => validateWorkflow(text).problems ?? [];
const lines = (text: string) => problems(text).map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);

/** A small valid workflow to break in each test. */
const small = `name: small
version: 1
phases:
  - id: A
    artifacts: [plan]
  - id: B
    final: true
transitions:
  - from: A
    to: B
    gates: [plan_has_acceptance_criteria]
`;

describe('the default workflow', () => {
  const result = validateWorkflow(defaultYaml);

  it('is valid', () => {
    expect(result.problems).toBeUndefined();
  });

  it('has the five phases, REVIEW → IMPL for changes requested, strict mode and two reviewers', () => {
    const w = result.workflow!;
    expect(w.name).toBe('default');
    expect(w.enforcement).toBe('strict');
    expect(w.phases.map((p) => p.id)).toEqual(['PLAN', 'TDD', 'IMPL', 'REVIEW', 'COMPLETE']);
    expect(w.phases.filter((p) => p.final).map((p) => p.id)).toEqual(['COMPLETE']);
    expect(w.transitions.map((t) => `${t.from}→${t.to}`)).toEqual([
      'PLAN→TDD',
      'TDD→IMPL',
      'IMPL→REVIEW',
      'REVIEW→IMPL',
      'REVIEW→COMPLETE',
    ]);
    expect(w.transitions.find((t) => t.from === 'REVIEW' && t.to === 'IMPL')).toMatchObject({
      name: 'changes_requested',
      gates: ['changes_requested'],
    });
    expect(w.triggers).toEqual([{ on_enter: 'REVIEW', spawn_reviews: { count: 2, capability: 'review' } }]);
    expect(w.max_review_rounds).toBe(3);
  });

  it('requires verified evidence for tests_are_failing and all_tests_pass', () => {
    const w = result.workflow!;
    for (const gate of ['tests_are_failing', 'all_tests_pass']) {
      const t = w.transitions.find((x) => x.gates.includes(gate as never))!;
      expect(t.evidence, gate).toBe('verified');
    }
  });

  it('gives each phase the tool policy the issue asks for', () => {
    const phase = (id: string) => result.workflow!.phases.find((p) => p.id === id)!.tools;
    expect(phase('PLAN').allow).not.toContain('write');
    expect(phase('PLAN').write.deny).toEqual(['**']);
    expect(phase('PLAN').commands.allow).not.toContain('npm test *');
    expect(phase('TDD').write.allow).toContain('**/*.test.*');
    expect(phase('TDD').write.allow).not.toContain('**');
    expect(phase('TDD').write.deny).toEqual(
      expect.arrayContaining(['**/package.json', '**/package-lock.json', '**/vitest.config.*', '.git/**']),
    );
    expect(phase('TDD').commands.allow).toEqual(
      expect.arrayContaining(['npm test *', 'npx vitest *', 'node --test *', 'pytest *']),
    );
    expect(phase('TDD').commands.allow.filter((c) => c.startsWith('npx ') || c.startsWith('npm '))).toEqual([
      'npm test *',
      'npx vitest *',
    ]);
    expect(phase('IMPL').write.allow).toEqual(['**']);
    expect(phase('REVIEW').allow).not.toContain('write');
    expect(phase('COMPLETE')).toMatchObject({
      allow: [],
      default: 'deny',
      read: { allow: [], deny: ['**'] },
    });
  });
});

describe('validateWorkflow', () => {
  it('accepts the small workflow and fills in the defaults', () => {
    const w = validateWorkflow(small).workflow!;
    expect(w).toMatchObject({ enforcement: 'strict', token_expiry_seconds: 7200, max_review_rounds: 3 });
    expect(w.transitions[0]!.evidence).toBe('reported');
  });

  it('reports a YAML syntax error with its position', () => {
    const [p, ...rest] = problems('name: x\nphases: [\n');
    expect(rest).toEqual([]);
    expect(p!.line).toBeGreaterThanOrEqual(2);
    expect(p!.path).toBe('');
  });

  it('reports schema problems at the offending value', () => {
    const text = small
      .replace('version: 1', 'version: one')
      .replace('final: true', 'final: true\n    colour: red');
    expect(lines(text)).toEqual([
      '2:10 version: Invalid input: expected number, received string',
      '8:5 phases[1].colour: Unrecognized key: "colour"',
    ]);
  });

  it('reports an unknown gate, an unknown phase and an artifact without a schema together', () => {
    const text = small
      .replace('to: B', 'to: C')
      .replace('[plan_has_acceptance_criteria]', '[tests_pass, all_tests_pass]');
    const text2 = text.replace('artifacts: [plan]', 'artifacts: [plan, design]');
    expect(lines(text2)).toEqual([
      '5:23 phases[0].artifacts[1]: artifact design has no schema: it is not built in and artifact_schemas does not name a file for it',
      '10:9 transitions[0].to: unknown phase C',
      expect.stringMatching(/^11:13 transitions\[0\]\.gates\[0\]: unknown gate or bad parameters/),
    ]);
  });

  it('accepts an artifact whose schema the workflow names, and asks the caller to check the file', () => {
    const text = `${small.replace('artifacts: [plan]', 'artifacts: [plan, design]')}artifact_schemas:\n  design: schemas/design.json\n`;
    expect(validateWorkflow(text).workflow).toBeDefined();
    const checked: string[] = [];
    const r = validateWorkflow(text, {
      checkSchemaFile: (path) => {
        checked.push(path);
        return 'cannot read the schema file (ENOENT)';
      },
    });
    expect(checked).toEqual(['schemas/design.json']);
    expect(r.problems?.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      '13:11 schemas/design.json: cannot read the schema file (ENOENT)',
    ]);
  });

  it('refuses a schema file for a built-in artifact name', () => {
    expect(lines(`${small}artifact_schemas:\n  plan: my-plan.json\n`)).toEqual([
      '13:9 artifact_schemas.plan: plan is a built-in artifact; give your schema another name',
    ]);
  });

  it('finds duplicate phases and transitions, unreachable phases and phases with no way to a final one', () => {
    const text = `name: graph
version: 1
phases:
  - id: A
  - id: B
  - id: C
  - id: D
    final: true
  - id: A
transitions:
  - { from: A, to: B }
  - { from: A, to: B }
  - { from: B, to: A }
  - { from: C, to: D }
  - { from: D, to: A }
triggers:
  - { on_enter: E, spawn_reviews: { count: 1 } }
`;
    expect(lines(text)).toEqual([
      '4:9 phases[0].id: no path from phase A to a final phase',
      '5:9 phases[1].id: no path from phase B to a final phase',
      '6:9 phases[2].id: phase C cannot be reached from A',
      '7:9 phases[3].id: phase D cannot be reached from A',
      '9:9 phases[4].id: duplicate phase id A',
      '12:5 transitions[1]: duplicate transition A → B',
      '15:13 transitions[4].from: D is final: no transition leaves it',
      '17:17 triggers[0].on_enter: unknown phase E',
    ]);
  });

  it('wants a final phase and a known initial phase', () => {
    expect(
      lines(small.replace('    final: true\n', '').replace('version: 1', 'version: 1\ninitial: Z')),
    ).toEqual(['3:10 initial: unknown phase Z', '5:3 phases: no phase is final (final: true)']);
  });
});
