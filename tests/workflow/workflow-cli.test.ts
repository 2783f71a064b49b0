import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/gen.ts';

const dir = mkdtempSync(join(tmpdir(), 'overseer-workflow-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `overseer workflow ARGS` as a child process, as a user would. */
function overseer(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'overseer.js'), 'workflow', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('overseer workflow validate', () => {
  it('exits 0 on the shipped default workflow', () => {
    const r = overseer('validate', join(ROOT, 'workflows', 'default.yaml'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/default\.yaml: valid \(workflow default v1, 5 phases, 5 transitions\)\n$/);
    expect(r.code).toBe(0);
  });

  it('exits 1 and lists every problem as FILE:line:col', () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      `name: bad
version: 1
phases:
  - id: PLAN
    artifacts: [plan, design]
  - id: DONE
    final: true
  - id: LOST
    final: true
transitions:
  - from: PLAN
    to: DONE
    gates: [looks_good]
  - from: PLAN
    to: NOWHERE
`,
    );
    const r = overseer('validate', 'bad.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      'bad.yaml:5:23: phases[0].artifacts[1]: artifact design has no schema: it is not built in and artifact_schemas does not name a file for it',
      expect.stringMatching(/^bad\.yaml:13:13: transitions\[0\]\.gates\[0\]: unknown gate/),
      'bad.yaml:15:9: transitions[1].to: unknown phase NOWHERE',
    ]);
    expect(r.stderr).toBe('bad.yaml: 3 problem(s)\n');
    // With the schema problems fixed, the graph is checked too.
    writeFileSync(
      join(dir, 'graph.yaml'),
      `name: graph
version: 1
phases:
  - id: PLAN
  - id: DONE
    final: true
  - id: LOST
    final: true
transitions:
  - { from: PLAN, to: DONE }
`,
    );
    const g = overseer('validate', 'graph.yaml');
    expect(g.code).toBe(1);
    expect(g.stdout).toBe('graph.yaml:7:9: phases[2].id: phase LOST cannot be reached from PLAN\n');
  });

  it('reads and compiles the artifact schema files a workflow names, relative to the workflow', () => {
    const wf = (file: string) => `name: own
version: 1
phases:
  - id: DESIGN
    artifacts: [design]
  - id: DONE
    final: true
transitions:
  - { from: DESIGN, to: DONE }
artifact_schemas:
  design: ${file}
`;
    writeFileSync(join(dir, 'design.schema.json'), JSON.stringify({ type: 'object', required: ['title'] }));
    writeFileSync(join(dir, 'broken.schema.json'), JSON.stringify({ type: 'thing' }));
    writeFileSync(join(dir, 'own.yaml'), wf('design.schema.json'));
    writeFileSync(join(dir, 'own-missing.yaml'), wf('nope.json'));
    writeFileSync(join(dir, 'own-broken.yaml'), wf('broken.schema.json'));
    expect(overseer('validate', 'own.yaml').code).toBe(0);
    const missing = overseer('validate', 'own-missing.yaml');
    expect([missing.code, missing.stdout]).toEqual([
      1,
      'own-missing.yaml:11:11: artifact_schemas.design: nope.json: cannot read the schema file (ENOENT)\n',
    ]);
    const broken = overseer('validate', 'own-broken.yaml');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(
      /^own-broken\.yaml:11:11: artifact_schemas\.design: broken\.schema\.json: not a valid JSON Schema: /,
    );
  });

  it('exits 2 when the file cannot be read or no file is given', () => {
    const r = overseer('validate', 'missing.yaml');
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', 'overseer: cannot read missing.yaml: ENOENT\n']);
    expect(overseer('validate').code).toBe(2);
    expect(overseer('lint', 'x.yaml').stderr).toBe('usage: overseer workflow validate FILE\n');
  });
});
