import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isOverseerError } from '../../src/core/errors.ts';
import { runCommand, type RunCommandOptions } from '../../src/executor/index.ts';

const node = process.execPath;
const root = mkdtempSync(join(tmpdir(), 'overseer-roots-'));
const dataDir = mkdtempSync(join(tmpdir(), 'overseer-data-'));
const work = join(root, 'job-1');
mkdirSync(work);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

/** Writes a script into the job's directory; answers its path. */
const script = (name: string, body: string) => {
  const path = join(work, name);
  writeFileSync(path, body);
  return path;
};
const run = (argv: RunCommandOptions['argv'], more: Partial<RunCommandOptions> = {}) =>
  runCommand({
    cwd: work,
    argv,
    timeoutMs: 10_000,
    outputCapBytes: 64 * 1024,
    workdirRoots: [root],
    dataDir,
    ...more,
  });

/** Whether a process is gone (a zombie nobody has reaped yet counts as gone). */
const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
};
const waitGone = async (pid: number) => {
  for (let i = 0; i < 50 && !gone(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return gone(pid);
};

describe('runCommand: the environment', () => {
  it("passes only PATH, a temporary HOME, LANG/LC_ALL, TZ, CI and the allowlist: never the node's OVERSEER_*", async () => {
    process.env['OVERSEER_JWT_SECRET'] = 'planted-secret';
    process.env['SOME_NODE_VARIABLE'] = 'planted-too';
    try {
      const env = script('env.mjs', 'console.log(JSON.stringify(process.env));\n');
      const r = await run([node, env], { env: { NODE_ENV: 'test' } });
      expect(r.exitCode).toBe(0);
      expect(r.output).not.toContain('planted');
      const seen = JSON.parse(r.output) as Record<string, string>;
      expect(Object.keys(seen).sort()).toEqual(['CI', 'HOME', 'LANG', 'LC_ALL', 'NODE_ENV', 'PATH', 'TZ']);
      expect(seen).toMatchObject({
        CI: '1',
        TZ: 'UTC',
        LANG: 'C.UTF-8',
        LC_ALL: 'C.UTF-8',
        NODE_ENV: 'test',
      });
      expect(seen['HOME']).not.toBe(process.env['HOME']);
      expect(existsSync(seen['HOME']!)).toBe(false); // removed after the run
    } finally {
      delete process.env['OVERSEER_JWT_SECRET'];
      delete process.env['SOME_NODE_VARIABLE'];
    }
  });

  it('refuses an OVERSEER_* variable or a HOME in the allowlist, before running anything', async () => {
    const marker = join(work, 'ran');
    const touch = script('touch.cjs', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, '');\n`);
    expect((await run([node, touch])).exitCode).toBe(0);
    rmSync(marker);
    for (const env of [{ OVERSEER_JWT_SECRET: 'x' }, { overseer_token: 'x' }, { HOME: '/root' }]) {
      const refused = await run([node, touch], { env }).catch((e: unknown) => e);
      expect(isOverseerError(refused, 'VALIDATION_FAILED')).toBe(true);
    }
    expect(existsSync(marker)).toBe(false);
  });
});

describe('runCommand: where it runs', () => {
  it('refuses a directory under no root, the data directory, one inside it or around it, and follows symlinks', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'overseer-outside-'));
    const link = join(root, 'link-out');
    symlinkSync(outside, link);
    const inData = join(dataDir, 'sub');
    mkdirSync(inData);
    const cases: [string, Partial<RunCommandOptions>, string][] = [
      [outside, {}, 'outside_roots'],
      [link, {}, 'outside_roots'],
      [join(root, 'missing'), {}, 'missing'],
      [work, { workdirRoots: [] }, 'outside_roots'],
      [dataDir, { workdirRoots: [root, dataDir] }, 'data_dir'],
      [inData, { workdirRoots: [dataDir] }, 'data_dir'],
      [root, { dataDir: join(work, '.overseer') }, 'data_dir'],
    ];
    try {
      for (const [cwd, more, reason] of cases) {
        const refused = await run([node, '-e', ''], { cwd, ...more }).catch((e: unknown) => e);
        expect(isOverseerError(refused, 'VALIDATION_FAILED'), cwd).toBe(true);
        expect((refused as { details: unknown }).details).toMatchObject({ field: 'cwd', reason });
      }
      expect((await run([node, '-e', ''], { cwd: root })).exitCode).toBe(0);
    } finally {
      rmSync(outside, { recursive: true, force: true });
      rmSync(link);
    }
  });

  it('answers 127 for a missing program and 126 for one that is not executable, as a shell does', async () => {
    const missing = await run(['overseer-no-such-program-anywhere']);
    expect(missing).toMatchObject({ exitCode: 127, signal: null, timedOut: false });
    expect(missing.output).toContain('command not found');
    const plain = script('not-executable.sh', '#!/bin/sh\necho hi\n');
    chmodSync(plain, 0o644);
    expect(await run([plain])).toMatchObject({ exitCode: 126 });
  });

  it(
    process.getuid?.() === 0
      ? 'runs as the uid and gid it is given (the node is root here)'
      : 'fails to switch user without the privilege (the node is not root here)',
    async () => {
      const who = script('who.mjs', 'console.log(process.getuid(), process.getgid(), process.env.HOME);\n');
      chmodSync(work, 0o755);
      chmodSync(root, 0o755);
      chmodSync(who, 0o644);
      const ran = run([node, who], { uid: 65534, gid: 65534 });
      if (process.getuid?.() !== 0) return expect(ran).rejects.toThrow(/EPERM/);
      const r = await ran;
      expect(r.exitCode).toBe(0);
      expect(r.output).toMatch(/^65534 65534 \//);
    },
  );
});

describe('runCommand: time and output limits', () => {
  it('kills the whole process group on timeout: SIGTERM, then SIGKILL for a process that ignores it', async () => {
    const stubborn = script(
      'stubborn.mjs',
      [
        "import { spawn } from 'node:child_process';",
        "process.on('SIGTERM', () => console.log('ignoring SIGTERM'));",
        "const body = \"process.on('SIGTERM', () => console.log('grandchild got SIGTERM')); setInterval(() => {}, 1000)\";",
        "const grandchild = spawn(process.execPath, ['-e', body], { stdio: 'inherit' });",
        'console.log(`grandchild ${grandchild.pid}`);',
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const r = await run([node, stubborn], { timeoutMs: 600, killGraceMs: 300 });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(r.output).toContain('ignoring SIGTERM');
    expect(r.output).toContain('grandchild got SIGTERM');
    expect(r.durationMs).toBeGreaterThanOrEqual(800);
    const pid = Number(/grandchild (\d+)/.exec(r.output)![1]);
    expect(await waitGone(pid)).toBe(true);
  });

  it('reaps what a command left running when it exits, even a process holding its output open', async () => {
    const leaver = script(
      'leaver.mjs',
      [
        "import { spawn } from 'node:child_process';",
        "const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });",
        'console.log(`grandchild ${g.pid}`);',
        'g.unref();',
      ].join('\n'),
    );
    const r = await run([node, leaver]);
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.durationMs).toBeLessThan(5_000);
    const pid = Number(/grandchild (\d+)/.exec(r.output)![1]);
    expect(await waitGone(pid)).toBe(true);
  });

  it('keeps the head and the tail of a long output and marks the cut; stderr is captured too', async () => {
    const loud = script('loud.mjs', "process.stdout.write('HEAD-' + 'x'.repeat(300_000) + '-TAIL\\n');\n");
    const r = await run([node, loud], { outputCapBytes: 1_000 });
    expect(r).toMatchObject({ exitCode: 0, truncated: true });
    expect(r.output.startsWith('HEAD-xxx')).toBe(true);
    expect(r.output.endsWith('xxx-TAIL\n')).toBe(true);
    expect(r.output).toContain('[… overseer executor: 299011 bytes of output cut …]');
    expect(Buffer.byteLength(r.output)).toBeLessThan(1_100);
    const quiet = await run([node, '-e', "console.log('short'); console.error('on stderr')"], {
      outputCapBytes: 1_000,
    });
    expect(quiet.truncated).toBe(false);
    expect(quiet.output.split('\n').sort()).toEqual(['', 'on stderr', 'short']);
  });
});
