import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/** A module of `n` lines, one export each. */
const manyLines = (n: number) => Array.from({ length: n }, (_, i) => `export const n${i} = ${i};\n`).join('');

/** The layer rules of DESIGN §2, checked on code that breaks them. */
describe('ESLint enforces the layers and the determinism bans', () => {
  // Fixtures are not files of the project, so the type-aware rules are off; the layer rules are not type-aware.
  const eslint = new ESLint({ overrideConfig: tseslint.configs.disableTypeChecked });
  const lint = async (filePath: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath });
    return result!.messages.map((m) => m.ruleId ?? m.message);
  };

  const cases: [string, string, string][] = [
    ['src/machines/x.ts', "import { open } from 'lmdb';\nexport const o = open;\n", 'no-restricted-imports'],
    ['src/machines/x.ts', "import pino from 'pino';\nexport const p = pino;\n", 'no-restricted-imports'],
    [
      'src/machines/x.ts',
      "import { ActorHost } from '../actors/actor-host.ts';\nexport type H = ActorHost;\n",
      'no-restricted-imports',
    ],
    ['src/domain/x.ts', 'export const now = () => Date.now();\n', 'no-restricted-syntax'],
    ['src/contracts/x.ts', 'export const r = () => Math.random();\n', 'no-restricted-syntax'],
    ['src/machines/x.ts', 'export const d = () => new Date();\n', 'no-restricted-syntax'],
    ['src/domain/x.ts', 'export const t = () => setTimeout(() => undefined, 1);\n', 'no-restricted-globals'],
    [
      'src/core/x.ts',
      "import { commands } from '../api/commands.ts';\nexport const c = commands;\n",
      'no-restricted-imports',
    ],
    ['src/actors/x.ts', "import { open } from 'lmdb';\nexport const o = open;\n", 'no-restricted-imports'],
    [
      'src/store/x.ts',
      "import { ActorHost } from '../actors/actor-host.ts';\nexport type H = ActorHost;\n",
      'no-restricted-imports',
    ],
    [
      'src/actors/x.ts',
      "import { commands } from '../api/commands.ts';\nexport const c = commands;\n",
      'no-restricted-imports',
    ],
    [
      'src/actors/x.ts',
      "import { createRuntime } from '../runtime.ts';\nexport const c = createRuntime;\n",
      'no-restricted-imports',
    ],
    [
      'src/tools/x.ts',
      "import { ActorHost } from '../actors/actor-host.ts';\nexport type H = ActorHost;\n",
      'no-restricted-imports',
    ],
    [
      'src/domain/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      'no-restricted-imports',
    ],
    [
      'src/actors/x.ts',
      "import type { JobContext } from '../machines/job.ts';\nexport const c = (s: { context: unknown }) => s.context as JobContext;\n",
      'no-restricted-syntax',
    ],
    [
      'src/actors/x.ts',
      "import type { JobContext } from '../machines/job.ts';\nexport const c = (s?: { context: unknown }) => s?.context as JobContext | undefined;\n",
      'no-restricted-syntax',
    ],
    ['src/actors/x.ts', manyLines(401), 'max-lines'],
    ['src/api/x.ts', manyLines(401), 'max-lines'],
    ['src/http/x.ts', manyLines(401), 'max-lines'],
  ];
  // Issue 13: the command table types every call, and contexts are typed where they are read.
  const typing: [string, string][] = [
    ['src/api/workspace-client.ts', 'export const f = (call: <T>() => T) => call<number>();\n'],
    ['src/sdk/x.ts', 'export const f = (call: <T>() => T) => call<number>();\n'],
    ['src/api/x.ts', 'type JobContext = { a: 1 };\nexport const c = (x: unknown) => x as JobContext;\n'],
    [
      'src/http/x.ts',
      'type WorkerContext = { a: 1 };\nexport const c = (x: unknown) => x as WorkerContext;\n',
    ],
    [
      'src/contracts/x.ts',
      'type JobContext = { a: 1 };\nexport const c = (x: unknown) => x as JobContext;\n',
    ],
    ['src/runtime.ts', 'type JobContext = { a: 1 };\nexport const c = (x: unknown) => x as JobContext;\n'],
  ];
  for (const [file, code] of typing) cases.push([file, code, 'no-restricted-syntax']);

  for (const [file, code, rule] of cases) {
    it(`${file}: ${code.split('\n')[0]} → ${rule}`, async () => {
      expect(await lint(file, code)).toContain(rule);
    });
  }

  // The node as code, the agent runner, the CLI, the test kit's folder and the root files (issue 13).
  const imports = (from: string, what: string, file: string): string =>
    `import { ${what} } from '${from}';\nexport const v = ${what};\nexport const f = '${file}';\n`;
  const boundaryCases: [string, string, string][] = [
    ['src/server/x.ts', '../actors/actor-host.ts', 'ActorHost'],
    ['src/server/x.ts', '../store/lmdb-store.ts', 'LmdbStore'],
    ['src/server/x.ts', '../testing.ts', 'tempDataDir'],
    ['src/server/x.ts', '../cli/serve.ts', 'serve'],
    ['src/runner/x.ts', '../api/commands.ts', 'commands'],
    ['src/runner/x.ts', '../transport/nats-bus.ts', 'NatsBus'],
    ['src/runner/x.ts', '../server/index.ts', 'startDataNode'],
    ['src/runner/x.ts', '../runtime.ts', 'createRuntime'],
    ['src/runner/x.ts', '../index.ts', 'createOverseer'],
    ['src/runner/work/x.ts', '../../actors/actor-host.ts', 'ActorHost'],
    ['src/cli/x.ts', '../actors/actor-host.ts', 'ActorHost'],
    ['src/cli/x.ts', '../http/server.ts', 'buildHttpServer'],
    ['src/cli/x.ts', '../runtime.ts', 'createRuntime'],
    ['src/cli/x.ts', '@nats-io/transport-node', 'connect'],
    ['src/server/x.ts', '@nats-io/transport-node', 'connect'],
    ['src/server/x.ts', 'fastify', 'Fastify'],
    ['src/actors/x.ts', '../testing/nats-server.ts', 'startNatsServer'],
    ['src/http/x.ts', '../server/index.ts', 'startDataNode'],
    ['src/runtime.ts', './http/server.ts', 'buildHttpServer'],
    ['src/runtime.ts', './server/index.ts', 'startDataNode'],
    ['src/runtime.ts', './index.ts', 'createOverseer'],
    ['src/runtime.ts', 'lmdb', 'open'],
    ['src/index.ts', './server/index.ts', 'startDataNode'],
    ['src/index.ts', './http/server.ts', 'buildHttpServer'],
    ['src/index.ts', './testing.ts', 'tempDataDir'],
    ['src/index.ts', './store/lmdb-store.ts', 'LmdbStore'],
    ['src/testing.ts', './runtime.ts', 'createRuntime'],
    ['src/testing.ts', './actors/actor-host.ts', 'ActorHost'],
    ['src/testing.ts', '@nats-io/transport-node', 'connect'],
    // The trusted executor (issue 16) stands beside the runtime: core, contracts and domain only.
    ['src/executor/x.ts', '../actors/actor-host.ts', 'ActorHost'],
    ['src/executor/x.ts', '../api/commands.ts', 'commands'],
    ['src/executor/x.ts', '../http/server.ts', 'buildHttpServer'],
    ['src/executor/x.ts', '../transport/nats-bus.ts', 'NatsBus'],
    ['src/executor/x.ts', '../store/lmdb-store.ts', 'LmdbStore'],
    ['src/executor/x.ts', '../runtime.ts', 'createRuntime'],
    ['src/executor/x.ts', 'lmdb', 'open'],
  ];
  for (const [file, from, what] of boundaryCases) {
    it(`${file}: import from ${from} → no-restricted-imports`, async () => {
      expect(await lint(file, imports(from, what, file))).toContain('no-restricted-imports');
    });
  }

  const allowedCases: [string, string, string][] = [
    ['src/server/x.ts', '../runtime.ts', 'createRuntime'],
    ['src/server/x.ts', '../index.ts', 'createOverseer'],
    ['src/server/x.ts', '../http/server.ts', 'buildHttpServer'],
    ['src/server/x.ts', '../transport/nats-bus.ts', 'NatsBus'],
    ['src/runner/x.ts', '../sdk/index.ts', 'Agent'],
    ['src/runner/x.ts', '../contracts/job.ts', 'JobSchema'],
    ['src/cli/x.ts', '../server/index.ts', 'startDataNode'],
    ['src/cli/x.ts', '../runner/x.ts', 'runWorker'],
    ['src/runtime.ts', './actors/actor-host.ts', 'ActorHost'],
    ['src/index.ts', './runtime.ts', 'createRuntime'],
    ['src/testing.ts', './testing/nats-server.ts', 'startNatsServer'],
    ['src/executor/x.ts', '../domain/workflow/parse-test-report.ts', 'parseTestReport'],
    ['src/executor/x.ts', '../contracts/artifacts.ts', 'TreeHashSchema'],
    ['src/executor/x.ts', '../core/errors.ts', 'OverseerError'],
    ['src/executor/x.ts', 'node:child_process', 'spawn'],
  ];
  for (const [file, from, what] of allowedCases) {
    it(`${file}: import from ${from} is allowed`, async () => {
      expect(await lint(file, imports(from, what, file))).toEqual([]);
    });
  }
  it('keeps the pure bans beside the cast ban', async () => {
    const cast = 'type JobContext = { a: 1 };\nexport const c = (x: unknown) => x as JobContext;\n';
    expect(await lint('src/domain/x.ts', `${cast}export const now = () => Date.now();\n`)).toEqual([
      'no-restricted-syntax',
      'no-restricted-syntax',
    ]);
  });

  it('lets sdk/ import types, never values, from api/ (its calls are typed by the command table)', async () => {
    expect(
      await lint(
        'src/sdk/x.ts',
        "import type { CommandName } from '../api/commands.ts';\nexport type N = CommandName;\n",
      ),
    ).toEqual([]);
    expect(
      await lint(
        'src/sdk/x.ts',
        "import { commands } from '../api/commands.ts';\nexport const c = commands;\n",
      ),
    ).toEqual(['@typescript-eslint/no-restricted-imports']);
  });

  it('allows what the layers permit', async () => {
    expect(
      await lint(
        'src/machines/x.ts',
        "import { setup } from 'xstate';\nimport type { JobStatus } from '../contracts/job.ts';\nexport const s = setup;\nexport type S = JobStatus;\n",
      ),
    ).toEqual([]);
  });

  it('lets actors/ read a typed context and keep 400 lines; flat-machine.ts, one algorithm, may be longer', async () => {
    expect(await lint('src/actors/x.ts', manyLines(400))).toEqual([]);
    expect(
      await lint(
        'src/actors/x.ts',
        "import type { JobContext } from '../machines/job.ts';\nexport const c = (s: { context: JobContext }): JobContext => s.context;\n",
      ),
    ).toEqual([]);
    expect(await lint('src/actors/flat-machine.ts', manyLines(401))).toEqual([]);
  });
});
