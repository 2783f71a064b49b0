import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  TaskDefinitionSchema,
  WorkstreamDefinitionSchema,
  type WorkstreamDefinition,
  type WorkstreamDefinitionInput,
} from '../../src/contracts/task-definition.ts';

const example = {
  schema_version: '2.0.0',
  workstream_id: 'auth-rework',
  name: 'Rework authentication',
  description: 'Move sessions to signed tokens.',
  tasks: [
    {
      task_id: 'design',
      name: 'Write the design note',
      type: 'docs',
      priority: 'high',
      execution: { estimated_seconds: 1800 },
    },
    {
      task_id: 'impl',
      name: 'Implement token issuing',
      description: 'Use jose.',
      type: 'feature',
      dependencies: ['design'],
      worker_requirements: { capabilities: ['typescript', 'security'] },
      execution: { command: 'npm run build', timeout_seconds: 3600, max_retries: 1, estimated_seconds: 7200 },
      context_requirements: { files: ['src/auth/**'], nested: { depth: [1, 2, { x: null }] } },
      validation_rules: [{ kind: 'command', run: 'npm test' }, 'lint-clean'],
    },
    {
      task_id: 'review',
      name: 'Security review',
      type: 'security-review', // free text: the runtime maps it to 'other'
      dependencies: ['impl', 'design'],
      context_requirements: ['threat-model.md'],
      validation_rules: 'manual',
    },
  ],
} satisfies WorkstreamDefinitionInput;

const clone = (): WorkstreamDefinitionInput => structuredClone(example);

function issuesOf(input: unknown): z.core.$ZodIssue[] {
  const result = WorkstreamDefinitionSchema.safeParse(input);
  expect(result.success).toBe(false);
  return result.error!.issues;
}

describe('WorkstreamDefinitionSchema', () => {
  it('accepts a valid v2 definition and keeps opaque JSON as written', () => {
    const parsed: WorkstreamDefinition = WorkstreamDefinitionSchema.parse(example);
    expect(parsed.workstream_id).toBe('auth-rework');
    expect(parsed.tasks.map((t) => t.task_id)).toEqual(['design', 'impl', 'review']);
    const [, impl, review] = parsed.tasks;
    expect(impl!.context_requirements).toEqual({
      files: ['src/auth/**'],
      nested: { depth: [1, 2, { x: null }] },
    });
    expect(impl!.validation_rules).toEqual([{ kind: 'command', run: 'npm test' }, 'lint-clean']);
    expect(impl!.execution).toEqual({
      command: 'npm run build',
      timeout_seconds: 3600,
      max_retries: 1,
      estimated_seconds: 7200,
    });
    expect(review!.type).toBe('security-review');
    expect(review!.context_requirements).toEqual(['threat-model.md']);
    expect(review!.validation_rules).toBe('manual');
  });

  it('applies defaults: dependencies [], capabilities [], max_retries 3; leaves optional fields absent', () => {
    const parsed = WorkstreamDefinitionSchema.parse({
      schema_version: '2.0.0',
      workstream_id: 'w',
      name: 'W',
      tasks: [
        { task_id: 'a', name: 'A', type: 'test', worker_requirements: {}, execution: { command: 'x' } },
        { task_id: 'b', name: 'B', type: 'bugfix' },
      ],
    });
    const [a, b] = parsed.tasks;
    expect(a!.dependencies).toEqual([]);
    expect(a!.worker_requirements).toEqual({ capabilities: [] });
    expect(a!.execution).toEqual({ command: 'x', max_retries: 3 });
    expect(b).toEqual({ task_id: 'b', name: 'B', type: 'bugfix', dependencies: [] });
    expect('priority' in b!).toBe(false);
    expect('execution' in b!).toBe(false);
  });

  it('a definition without schema_version (v1) fails on schema_version with a how-to-fix message', () => {
    const { schema_version: _, ...v1 } = example;
    const issues = issuesOf(v1);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toEqual(['schema_version']);
    expect(issues[0]!.message).toMatch(/v1 format .*not supported yet/);
    expect(issues[0]!.message).toContain('add "schema_version": "2.0.0"');
  });

  it('another schema_version fails with a different message', () => {
    const issues = issuesOf({ ...clone(), schema_version: '3.0.0' });
    expect(issues[0]!.path).toEqual(['schema_version']);
    expect(issues[0]!.message).toBe('schema_version must be "2.0.0" (the only version supported)');
  });

  it('duplicate task_id: one issue on each repeat', () => {
    const def = clone();
    def.tasks[2]!.task_id = 'design';
    def.tasks[2]!.dependencies = ['impl'];
    const issues = issuesOf(def);
    expect(issues).toEqual([
      expect.objectContaining({ path: ['tasks', 2, 'task_id'], message: 'duplicate task_id "design"' }),
    ]);
  });

  it('unknown dependency: an issue on the offending entry', () => {
    const def = clone();
    def.tasks[2]!.dependencies = ['impl', 'deploy', 'design', 'nope'];
    const issues = issuesOf(def);
    expect(issues.map((i) => i.path)).toEqual([
      ['tasks', 2, 'dependencies', 1],
      ['tasks', 2, 'dependencies', 3],
    ]);
    expect(issues[0]!.message).toBe(
      'task "review" depends on "deploy", which is not a task_id of this workstream',
    );
  });

  it('dependencies may name tasks listed later; cycles are left to the runtime', () => {
    const def = clone();
    def.tasks[0]!.dependencies = ['review'];
    expect(WorkstreamDefinitionSchema.safeParse(def).success).toBe(true);
  });

  it('rejects an empty task list, more than 1000 tasks, and bad ids', () => {
    expect(issuesOf({ ...clone(), tasks: [] })[0]!.path).toEqual(['tasks']);
    const many = Array.from({ length: 1001 }, (_, i) => ({ task_id: `t${i}`, name: 'n', type: 'other' }));
    expect(issuesOf({ ...clone(), tasks: many })[0]!.path).toEqual(['tasks']);
    expect(issuesOf({ ...clone(), workstream_id: '' })[0]!.path).toEqual(['workstream_id']);
    expect(issuesOf({ ...clone(), workstream_id: 'x'.repeat(129) })[0]!.path).toEqual(['workstream_id']);
  });

  it('1000 tasks are accepted', () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => ({
      task_id: `t${i}`,
      name: 'n',
      type: 'other',
      dependencies: i === 0 ? [] : [`t${i - 1}`],
    }));
    expect(WorkstreamDefinitionSchema.parse({ ...clone(), tasks }).tasks).toHaveLength(1000);
  });

  it('carries its meta id and exports to JSON Schema', () => {
    expect(z.globalRegistry.get(WorkstreamDefinitionSchema)?.id).toBe('WorkstreamDefinition');
    const json = z.toJSONSchema(WorkstreamDefinitionSchema, { io: 'input' }) as Record<string, unknown>;
    expect(JSON.stringify(json)).toContain('"schema_version"');
  });
});

describe('TaskDefinitionSchema', () => {
  const task = { task_id: 't', name: 'T', type: 'feature' };
  const fails = (patch: Record<string, unknown>, path: (string | number)[]): void => {
    const result = TaskDefinitionSchema.safeParse({ ...task, ...patch });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(path);
  };

  it('carries its meta id', () => {
    expect(z.globalRegistry.get(TaskDefinitionSchema)?.id).toBe('TaskDefinition');
  });

  it('rejects missing or empty required fields', () => {
    fails({ task_id: undefined }, ['task_id']);
    fails({ task_id: '' }, ['task_id']);
    fails({ task_id: 'x'.repeat(129) }, ['task_id']);
    fails({ name: undefined }, ['name']);
    fails({ type: undefined }, ['type']);
  });

  it('checks priority and execution bounds', () => {
    fails({ priority: 'urgent' }, ['priority']);
    fails({ execution: { timeout_seconds: 0 } }, ['execution', 'timeout_seconds']);
    fails({ execution: { timeout_seconds: 1.5 } }, ['execution', 'timeout_seconds']);
    fails({ execution: { max_retries: -1 } }, ['execution', 'max_retries']);
    fails({ execution: { max_retries: 0.5 } }, ['execution', 'max_retries']);
    fails({ execution: { estimated_seconds: 0 } }, ['execution', 'estimated_seconds']);
    expect(
      TaskDefinitionSchema.parse({ ...task, execution: { max_retries: 0, estimated_seconds: 0.5 } })
        .execution,
    ).toEqual({ max_retries: 0, estimated_seconds: 0.5 });
  });

  it('context_requirements must be an object or an array', () => {
    fails({ context_requirements: 'files' }, ['context_requirements']);
    fails({ context_requirements: 3 }, ['context_requirements']);
    for (const ok of [{}, [], { a: [1] }, [{ b: 2 }]])
      expect(TaskDefinitionSchema.parse({ ...task, context_requirements: ok }).context_requirements).toEqual(
        ok,
      );
  });

  it('dependencies and capabilities are lists of non-empty strings', () => {
    fails({ dependencies: 'a' }, ['dependencies']);
    fails({ dependencies: [''] }, ['dependencies', 0]);
    fails({ worker_requirements: { capabilities: [''] } }, ['worker_requirements', 'capabilities', 0]);
  });
});
