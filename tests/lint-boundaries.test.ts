import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

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

  it('still allows context casts in src/actors until its typed Tx.get lands, and pure bans stay with the new ones', async () => {
    const cast = 'type JobContext = { a: 1 };\nexport const c = (x: unknown) => x as JobContext;\n';
    expect(await lint('src/actors/x.ts', cast)).toEqual([]);
    expect(await lint('src/domain/x.ts', `${cast}export const now = () => Date.now();\n`)).toEqual([
      'no-restricted-syntax',
      'no-restricted-syntax',
    ]);
  });

  it('allows what the layers permit', async () => {
    expect(
      await lint(
        'src/machines/x.ts',
        "import { setup } from 'xstate';\nimport type { JobStatus } from '../contracts/job.ts';\nexport const s = setup;\nexport type S = JobStatus;\n",
      ),
    ).toEqual([]);
  });
});
