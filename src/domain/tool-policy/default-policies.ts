import type { PhaseToolPolicyInput } from '../../contracts/tool-policy.ts';

/** The test runners a default workflow lets TDD and IMPL run (with any arguments; never redirected or chained). */
export const DEFAULT_TEST_COMMANDS: readonly string[] = [
  'npm test *',
  'npx vitest *',
  'node --test *',
  'pytest *',
];

/** Commands that only read: the PLAN and REVIEW phases, and everyone else, may run them. */
export const READ_ONLY_COMMANDS: readonly string[] = [
  'ls *',
  'cat *',
  'head *',
  'tail *',
  'wc *',
  'grep *',
  'rg *',
  'find *',
  'pwd',
  'echo *',
  'diff *',
  'git status *',
  'git log *',
  'git diff *',
  'git show *',
];

/** Test files, by the conventions of the usual runners. */
export const TEST_GLOBS: readonly string[] = [
  'tests/**',
  'test/**',
  '**/__tests__/**',
  '**/*.test.*',
  '**/*.spec.*',
  '**/test_*.py',
  '**/*_test.py',
  '**/*_test.go',
];

/**
 * What the test command runs besides the tests, which TDD may not edit: the manifest, lockfiles, the test
 * runners' configuration, and the repository itself.
 */
export const TEST_HARNESS_GLOBS: readonly string[] = [
  '**/package.json',
  '**/package-lock.json',
  '**/npm-shrinkwrap.json',
  '**/yarn.lock',
  '**/pnpm-lock.yaml',
  '**/bun.lockb',
  '**/bun.lock',
  '**/poetry.lock',
  '**/Pipfile.lock',
  '**/uv.lock',
  '**/Cargo.lock',
  '**/go.sum',
  '**/vitest.config.*',
  '**/vitest.workspace.*',
  '**/vite.config.*',
  '**/jest.config.*',
  '**/.mocharc*',
  '**/pytest.ini',
  '**/pyproject.toml',
  '**/setup.cfg',
  '**/tox.ini',
  '**/conftest.py',
  '**/tsconfig*.json',
  '.git',
  '.git/**',
  '**/.git',
  '**/.git/**',
];

/** The repository's own data, which no default phase writes. */
const REPOSITORY = ['.git', '.git/**', '**/.git', '**/.git/**'];

/**
 * The default workflow's tool policy per phase (issue 17): PLAN reads only; TDD writes only tests and runs only
 * the test commands, never the harness; IMPL writes source and tests; REVIEW reads; COMPLETE does nothing.
 * Network tools are denied everywhere.
 */
export const DEFAULT_PHASE_POLICIES: Readonly<
  Record<'PLAN' | 'TDD' | 'IMPL' | 'REVIEW' | 'COMPLETE', PhaseToolPolicyInput>
> = {
  PLAN: {
    allow: ['read', 'list', 'search', 'run_command'],
    deny: ['write', 'edit', 'network', 'mcp', 'agent'],
    default: 'deny',
    read: { allow: ['**'], deny: [] },
    write: { allow: [], deny: ['**'] },
    commands: { allow: [...READ_ONLY_COMMANDS], deny: [] },
  },
  TDD: {
    allow: ['read', 'list', 'search', 'write', 'edit', 'run_command'],
    deny: ['network', 'mcp', 'agent'],
    default: 'deny',
    read: { allow: ['**'], deny: [] },
    write: { allow: [...TEST_GLOBS], deny: [...TEST_HARNESS_GLOBS] },
    commands: { allow: [...DEFAULT_TEST_COMMANDS, ...READ_ONLY_COMMANDS], deny: [] },
  },
  IMPL: {
    allow: ['read', 'list', 'search', 'write', 'edit', 'run_command'],
    deny: ['network', 'mcp', 'agent'],
    default: 'deny',
    read: { allow: ['**'], deny: [] },
    write: { allow: ['**'], deny: [...REPOSITORY] },
    commands: {
      allow: [...DEFAULT_TEST_COMMANDS, ...READ_ONLY_COMMANDS, 'npx tsc *', 'npx eslint *'],
      deny: [],
    },
  },
  REVIEW: {
    allow: ['read', 'list', 'search', 'run_command'],
    deny: ['write', 'edit', 'network', 'mcp', 'agent'],
    default: 'deny',
    read: { allow: ['**'], deny: [] },
    write: { allow: [], deny: ['**'] },
    commands: { allow: [...READ_ONLY_COMMANDS], deny: [] },
  },
  COMPLETE: {
    allow: [],
    deny: [],
    default: 'deny',
    read: { allow: [], deny: ['**'] },
    write: { allow: [], deny: ['**'] },
    commands: { allow: [], deny: [] },
  },
};
