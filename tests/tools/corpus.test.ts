import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhaseToolPolicySchema, type PhaseToolPolicyInput } from '../../src/contracts/tool-policy.ts';
import { DEFAULT_PHASE_POLICIES } from '../../src/domain/tool-policy/default-policies.ts';
import { checkTool } from '../../src/tools/check-tool.ts';
import { loadShellParser } from '../../src/tools/shell-parser.ts';

/** One case of a corpus file (tests/tools/corpus/*.json); see the files' description. */
interface CorpusCase {
  name: string;
  policy: string;
  tool: string;
  input: unknown;
  mode?: 'strict' | 'permissive';
  fs?: { files?: string[]; dirs?: string[]; symlinks?: [string, string][]; hardlinks?: [string, string][] };
  expect: 'allow' | 'deny' | 'ask';
  rule?: string;
  wouldDeny?: boolean;
}

interface Corpus {
  policies: Record<string, PhaseToolPolicyInput>;
  cases: CorpusCase[];
}

const load = (name: string): Corpus =>
  JSON.parse(readFileSync(new URL(`./corpus/${name}.json`, import.meta.url), 'utf8')) as Corpus;

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
beforeAll(async () => {
  await loadShellParser();
});

/** $TMP/root is the job root with a small project; $TMP/outside and $TMP/secrets lie outside it. */
function setUp(c: CorpusCase): { tmp: string; root: string; sub: (s: string) => string } {
  const tmp = mkdtempSync(join(tmpdir(), 'ovs-tools-'));
  temps.push(tmp);
  const root = join(tmp, 'root');
  const sub = (s: string) => s.replaceAll('$ROOT', root).replaceAll('$TMP', tmp);
  const file = (p: string, text = 'x\n') => {
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  };
  for (const p of [
    'src/app.ts',
    'tests/a.test.ts',
    'package.json',
    'package-lock.json',
    '.git/config',
    '.overseer/data.mdb',
    '.credentials/other-agent.json',
  ])
    file(join(root, p));
  file(join(tmp, 'outside/secret.txt'), 'secret\n');
  file(join(tmp, 'secrets/jwt.key'), 'jwt\n');
  for (const d of c.fs?.dirs ?? []) mkdirSync(join(root, d), { recursive: true });
  for (const f of c.fs?.files ?? []) file(join(root, f));
  for (const [link, target] of c.fs?.symlinks ?? []) {
    mkdirSync(dirname(join(root, link)), { recursive: true });
    symlinkSync(sub(target), join(root, link));
  }
  for (const [link, existing] of c.fs?.hardlinks ?? []) linkSync(join(root, existing), join(root, link));
  return { tmp, root, sub };
}

function substitute(v: unknown, sub: (s: string) => string): unknown {
  if (typeof v === 'string') return sub(v);
  if (Array.isArray(v)) return v.map((x) => substitute(x, sub));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, sub)]));
  return v;
}

for (const [file, minimum] of [
  ['paths', 60],
  ['commands', 50],
] as const) {
  const corpus = load(file);
  describe(`tool policy corpus: ${file}.json`, () => {
    it(`holds at least ${minimum} cases with unique names`, () => {
      expect(corpus.cases.length).toBeGreaterThanOrEqual(minimum);
      expect(new Set(corpus.cases.map((c) => c.name)).size).toBe(corpus.cases.length);
    });
    for (const c of corpus.cases) {
      it(`${c.name}: ${c.tool} → ${c.expect}${c.rule ? ` (${c.rule})` : ''}`, async () => {
        const { tmp, root, sub } = setUp(c);
        const named = (DEFAULT_PHASE_POLICIES as Record<string, PhaseToolPolicyInput>)[c.policy];
        const input = named ?? corpus.policies[c.policy];
        expect(input, `policy ${c.policy}`).toBeDefined();
        const verdict = await checkTool(
          { name: c.tool, input: substitute(c.input, sub) },
          {
            policy: PhaseToolPolicySchema.parse(input),
            mode: c.mode ?? 'strict',
            root,
            protectedPaths: [
              join(root, '.overseer'),
              join(root, '.credentials/other-agent.json'),
              join(tmp, 'secrets/jwt.key'),
            ],
          },
        );
        expect(
          { decision: verdict.decision, rule: c.rule ? verdict.rule : undefined },
          verdict.reason,
        ).toEqual({
          decision: c.expect,
          rule: c.rule,
        });
        if (c.mode === 'permissive') expect(verdict.wouldDeny).toBe(true);
        else expect(verdict.wouldDeny).toBeUndefined();
      });
    }
  });
}
