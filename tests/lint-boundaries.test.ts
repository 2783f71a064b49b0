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
  ];
  for (const [file, code, rule] of cases) {
    it(`${file}: ${code.split('\n')[0]} → ${rule}`, async () => {
      expect(await lint(file, code)).toContain(rule);
    });
  }

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
