/**
 * The package as a user gets it: `npm pack` (which runs `prepare`, the build), the tarball installed into a new
 * plain-JavaScript project, then its entry points imported from a `.mjs` file and its command run, on this Node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const checkout = process.cwd();

/** Every `npm warn EBADENGINE` package named in npm's output, e.g. `cookie@2.0.2`. */
function badEngines(npmOutput: string): string[] {
  return [...npmOutput.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((m) => m[1]!).sort();
}

const SCRIPT = `
import { createOverseer, OverseerError } from 'overseer';
import { connectAgent } from 'overseer/sdk';
import { tempDataDir } from 'overseer/testing';
import { startDataNode } from 'overseer/server';
// The two dependencies whose engines say Node >= 22 (npm warns on Node 20), used on this Node through the code that
// uses them: @nats-io/nuid mints the NATS client's inboxes, cookie writes the Cookie header of Fastify's inject.
import { createInbox } from '@nats-io/transport-node';
import Fastify from 'fastify';

const dir = tempDataDir('overseer-pack-');
// A data dir whose last segment has a dot.
const ov = await createOverseer({ dataDir: dir.path + '/x.v2', logLevel: 'silent' });
const job = await ov.workspace('acme').jobs.submit({ title: 'From plain JavaScript' });
let refused = '';
try {
  await ov.workspace('acme').jobs.get('job_missing');
} catch (err) {
  refused = err instanceof OverseerError ? err.code : String(err);
}
await ov.close();
dir.remove();
const app = Fastify();
app.get('/', (req) => req.headers.cookie);
const echoed = await app.inject({ url: '/', cookies: { a: 'b c' } });
await app.close();
console.log(JSON.stringify({
  status: job.status,
  refused,
  connectAgent: typeof connectAgent,
  server: typeof startDataNode,
  inbox: /^_INBOX\\.[0-9A-Za-z]{22}$/.test(createInbox()),
  cookie: echoed.body,
}));
`;

/** Records every module URL the process loads (resolve hook on the loader thread). */
const TRACE = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const found = await next(specifier, context);
  appendFileSync(process.env.TRACE_FILE, found.url + '\\\\n');
  return found;
}\`));
`;

describe('the packed package', () => {
  let dir = '';
  let installLog = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'overseer-pack-test-'));
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
      cwd: checkout,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .trim()
      .split('\n')
      .at(-1)!;
    const project = join(dir, 'app');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), '{ "name": "app", "private": true }\n');
    const install = spawnSync(
      'npm',
      ['install', join(dir, tarball), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn'],
      { cwd: project, encoding: 'utf8' },
    );
    installLog = `${install.stdout}${install.stderr}`;
    expect(install.status, installLog).toBe(0);
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const app = () => join(dir, 'app');

  it('ships the built JavaScript and declarations, not the TypeScript source', () => {
    const pkg = join(app(), 'node_modules/overseer');
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    for (const entry of ['index', 'sdk/index', 'testing', 'server/index']) {
      expect(existsSync(join(pkg, 'dist', `${entry}.js`)), entry).toBe(true);
      expect(readFileSync(join(pkg, 'dist', `${entry}.d.ts`), 'utf8')).toMatch(/export/);
    }
    expect(readdirSync(join(pkg, 'dist/cli'))).toContain('main.js');
  });

  it('imports overseer, overseer/sdk and overseer/server from a plain .mjs file and runs a job', () => {
    writeFileSync(join(app(), 'test.mjs'), SCRIPT);
    const out = execFileSync(process.execPath, ['test.mjs'], { cwd: app(), encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      status: 'QUEUED',
      refused: 'NOT_FOUND',
      connectAgent: 'function',
      server: 'function',
      inbox: true,
      cookie: 'a=b%20c',
    });
  });

  it('answers `overseer --help` from dist/ without loading the runtime', () => {
    writeFileSync(join(app(), 'trace.mjs'), TRACE);
    const traceFile = join(dir, 'trace.txt');
    const help = spawnSync(
      process.execPath,
      ['--import', './trace.mjs', 'node_modules/.bin/overseer', '--help'],
      { cwd: app(), encoding: 'utf8', env: { ...process.env, TRACE_FILE: traceFile } },
    );
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^Usage: overseer <command>/);
    const loaded = readFileSync(traceFile, 'utf8').trim().split('\n');
    expect(loaded.some((url) => url.endsWith('/node_modules/overseer/dist/cli/main.js'))).toBe(true);
    const heavy = loaded.filter((url) => /lmdb|fastify|zod|xstate|tsx|dist\/runtime\.js/.test(url));
    expect(heavy).toEqual([]);
  });

  it('warns about engines on Node 20 only for @nats-io/nuid and cookie (harmless: used above on this Node)', () => {
    const warned = badEngines(installLog).map((p) => p.replace(/@[^@]+$/, ''));
    if (process.versions.node.startsWith('20.')) expect(warned).toEqual(['@nats-io/nuid', 'cookie']);
    else expect(warned).toEqual([]);
  });
});
