// ESLint flat config: type-checked rules, the folder boundaries of DESIGN §2 and the determinism bans.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const layers = [
  'core',
  'contracts',
  'domain',
  'machines',
  'store',
  'transport',
  'tools',
  'executor',
  'actors',
  'api',
  'http',
  'sdk',
  'server',
  'runner',
  'testing',
  'cli',
];

/** The folders each layer may import from (besides itself). */
const allowed = {
  core: [],
  contracts: ['core'],
  domain: ['core', 'contracts'],
  machines: ['core', 'contracts', 'domain'],
  store: ['core', 'contracts'],
  transport: ['core', 'contracts'],
  tools: ['core', 'contracts', 'domain'],
  executor: ['core', 'contracts', 'domain'],
  actors: ['core', 'contracts', 'domain', 'machines', 'store', 'transport'],
  api: ['core', 'contracts', 'domain', 'machines', 'actors', 'transport'],
  http: ['core', 'contracts', 'api'],
  sdk: ['core', 'contracts', 'transport'],
  server: ['core', 'contracts', 'api', 'http', 'transport'],
  runner: ['core', 'contracts', 'sdk'],
  testing: ['core', 'contracts'],
  cli: ['core', 'contracts', 'domain', 'api', 'sdk', 'transport', 'server', 'runner'],
};

/** The root files (`src/runtime.ts`, `src/index.ts`, `src/testing.ts`) each layer may import. */
const allowedRoots = {
  server: ['runtime', 'index'],
  cli: ['index'],
};

/** Each root file: the folders and the other root files it may import. */
const roots = {
  runtime: {
    folders: ['core', 'contracts', 'domain', 'machines', 'store', 'transport', 'executor', 'actors', 'api'],
    files: [],
  },
  index: { folders: ['core', 'contracts', 'transport', 'actors', 'api'], files: ['runtime'] },
  testing: { folders: ['core', 'contracts', 'testing'], files: [] },
};

const nodeAndIo = ['node:*', 'lmdb', 'lmdb/*', '@nats-io/*', 'pino', 'fastify', 'fastify/*'];
const pureGlobals = [
  { name: 'setTimeout', message: 'Pure code takes time through events or input.' },
  { name: 'setInterval', message: 'Pure code takes time through events or input.' },
  { name: 'process', message: 'Pure code does no I/O.' },
];
const pureSyntax = [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'No Date.now() in pure code.',
  },
  { selector: "NewExpression[callee.name='Date']", message: 'No new Date() in pure code.' },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'No Math.random() in pure code.',
  },
];

/** An import of one of the root files named: from a folder (`../runtime.ts`, never a folder's own `./index.ts`) or a root file (`./runtime.ts`). */
const rootImport = (names, fromRoot = false) =>
  `^${fromRoot ? '\\./' : '(\\.\\./)+'}(${names.join('|')})(\\.ts)?$`;

/** The package bans every file of `src/` outside the one folder that owns the package. */
function packageBans(layer) {
  const patterns = [];
  if (layer !== 'store') patterns.push({ group: ['lmdb', 'lmdb/*'], message: 'Only store/ touches LMDB.' });
  if (layer !== 'http')
    patterns.push({ group: ['fastify', 'fastify/*', '@fastify/*'], message: 'Only http/ knows Fastify.' });
  if (layer !== 'transport') patterns.push({ group: ['@nats-io/*'], message: 'Only transport/ knows NATS.' });
  return patterns;
}
/** No `as XxxContext` casts: the machine registry types every snapshot, so a context is read without one. */
const contextCast = {
  selector:
    'TSAsExpression > TSTypeReference[typeName.name=/Context$/], TSAsExpression > TSUnionType > TSTypeReference[typeName.name=/Context$/]',
  message: 'No `as …Context` casts: read the context through a typed accessor.',
};
/** The library client and the SDK take their types from the command table, never from a `call<T>` cast. */
const typedCalls = {
  selector: "CallExpression[callee.name='call'][typeArguments]",
  message: 'No call<T>(…): the command table types each call (see api/typed-call.ts).',
};

/**
 * Folders a layer may import types from but never values (types are erased at run time): the SDK's calls are typed
 * by the command table, while the SDK still runs with nothing of the server's.
 */
const typesFrom = { sdk: ['api'] };

function boundary(layer) {
  const typeOnly = typesFrom[layer] ?? [];
  const banned = layers.filter((l) => l !== layer && !allowed[layer].includes(l) && !typeOnly.includes(l));
  const patterns = banned.map((l) => ({
    group: [`**/${l}/*`, `../${l}/*`, `../../${l}/*`],
    message: `${layer}/ may not import ${l}/ (DESIGN §2).`,
  }));
  const bannedRoots = Object.keys(roots).filter((r) => !(allowedRoots[layer] ?? []).includes(r));
  patterns.push({
    regex: rootImport(bannedRoots),
    message: `${layer}/ may not import ${bannedRoots.map((r) => `${r}.ts`).join(', ')}: only the composition root picks implementations.`,
  });
  const pure = ['contracts', 'domain', 'machines'].includes(layer);
  if (pure) patterns.push({ group: nodeAndIo, message: `${layer}/ is pure: no I/O imports.` });
  if (layer === 'machines')
    patterns.push({
      regex: '^(?!xstate$|\\.{1,2}/)',
      message: 'machines/ import only xstate, contracts and domain.',
    });
  patterns.push(...packageBans(layer));
  const rules = { 'no-restricted-imports': ['error', { patterns }] };
  if (typeOnly.length > 0)
    rules['@typescript-eslint/no-restricted-imports'] = [
      'error',
      {
        patterns: typeOnly.map((l) => ({
          group: [`**/${l}/*`, `../${l}/*`, `../../${l}/*`],
          allowTypeImports: true,
          message: `${layer}/ may import only types from ${l}/ (DESIGN §2).`,
        })),
      },
    ];
  if (pure) rules['no-restricted-globals'] = ['error', ...pureGlobals];
  const syntax = [
    ...(pure ? pureSyntax : []),
    contextCast,
    ...(['api', 'sdk'].includes(layer) ? [typedCalls] : []),
  ];
  if (syntax.length > 0) rules['no-restricted-syntax'] = ['error', ...syntax];
  return { files: [`src/${layer}/**/*.ts`], rules };
}

/** The rule of one root file: the folders and root files it may import, and the package bans. */
function rootBoundary(root) {
  const { folders, files } = roots[root];
  const patterns = layers
    .filter((l) => !folders.includes(l))
    .map((l) => ({ group: [`./${l}/*`], message: `${root}.ts may not import ${l}/ (DESIGN §2).` }));
  const bannedRoots = Object.keys(roots).filter((r) => r !== root && !files.includes(r));
  if (bannedRoots.length > 0)
    patterns.push({
      regex: rootImport(bannedRoots, true),
      message: `${root}.ts may not import ${bannedRoots.map((r) => `${r}.ts`).join(', ')} (DESIGN §2).`,
    });
  patterns.push(...packageBans(root));
  return { files: [`src/${root}.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  {
    ignores: [
      '.scratch/**',
      'node_modules/**',
      'coverage/**',
      'statecharts/**',
      'docs/**',
      '.overseer/**',
      'bin/**',
      'dist/**',
      'web/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
  },
  ...layers.map(boundary),
  ...Object.keys(roots).map(rootBoundary),
  { files: ['src/*.ts'], rules: { 'no-restricted-syntax': ['error', contextCast] } },
  // Small files, one concept each (issue 13); flat-machine.ts is one algorithm.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/actors/flat-machine.ts'],
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }] },
  },
  // XState's `types: {} as {...}` idiom is an assertion the rule cannot see the point of.
  { files: ['src/machines/**/*.ts'], rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'off' } },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['tests/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'examples/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['*.js', '*.config.ts'], ...tseslint.configs.disableTypeChecked },
  // Plain-JavaScript examples (no Overseer code, no types): linted without type information.
  {
    files: ['examples/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' },
    },
  },
);
