/** `overseer nats-config`: the user blocks it prints, checked against a real nats-server, and its refusals. */
import { spawnSync } from 'node:child_process';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { natsConfig, natsUserFor, runNatsConfig } from '../../src/cli/nats-config.ts';
import { startNatsServer } from '../../src/testing.ts';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/overseer.js', 'nats-config', ...args], { encoding: 'utf8' });

/** Runs the command in-process: its exit code and what it printed. */
function run(flags: Record<string, unknown>): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runNatsConfig(
    flags,
    (t) => (out += t),
    (t) => (err += t),
  );
  return { code, out, err };
}

const passwordOf = (text: string): string => /password: "([^"]+)"/.exec(text)![1]!;

describe('overseer nats-config', () => {
  it('prints a block nats-server accepts, with a generated password in a comment to hand out', async () => {
    const res = cli('--workspace', 'acme');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^authorization \{\n {2}users = \[\n/m);
    expect(res.stdout).toContain('publish: { allow: ["overseer.cmd.acme.>"] }');
    expect(res.stdout).toContain('subscribe: { allow: ["overseer.evt.acme.>", "_INBOX_acme.>"] }');
    expect(res.stdout).toContain('inboxPrefix "_INBOX_acme"');
    const password = passwordOf(res.stdout);
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(res.stdout).toMatch(new RegExp(`^ *# Hand out: user "acme", password "${password}"`, 'm'));

    const ns = await startNatsServer({ config: res.stdout });
    try {
      const nc = await connect({ servers: ns.url, user: 'acme', pass: password, inboxPrefix: '_INBOX_acme' });
      await nc.flush();
      await nc.close();
      await expect(connect({ servers: ns.url, user: 'acme', pass: 'wrong-password-123' })).rejects.toThrow(
        /Authorization/i,
      );
    } finally {
      await ns.stop();
    }
  });

  it('generates a new password each time, and takes a given one', () => {
    const a = passwordOf(run({ workspace: 'acme' }).out);
    const b = passwordOf(run({ workspace: 'acme' }).out);
    expect(a).not.toBe(b);
    const given = run({ workspace: 'acme', user: 'ci-bot', password: 'a-long-enough-password' });
    expect(given.code).toBe(0);
    expect(given.out).toContain('user: "ci-bot"');
    expect(given.out).toContain('password: "a-long-enough-password"');
  });

  it('keeps a bcrypt hash as the stored password and does not present it as one to hand out', () => {
    const hash = '$2a$11$PWIFAL8RsWyGI3jVZtO9Nu8.6jOxzxfZo7c/W0eLk017hjgUKWrhy';
    const user = natsUserFor({ workspace: 'acme', password: hash });
    expect(user.password).toBe(hash);
    expect(user.notes.join('\n')).not.toContain(hash);
  });

  it('exits 2 with a clear message on a bad workspace id, using the runtime schema', () => {
    const res = cli('--workspace', 'Bad!');
    expect(res.status).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('Invalid --workspace "Bad!"');
    expect(res.stderr).toContain('^[a-z0-9][a-z0-9_-]{0,62}$');
    for (const ws of ['-acme', 'ACME', 'a.b', 'a>', 'x'.repeat(64), true]) {
      const r = run({ workspace: ws });
      expect({ ws, code: r.code, out: r.out }).toEqual({ ws, code: 2, out: '' });
      expect(r.err).toContain('Invalid --workspace');
    }
    expect(run({ workspace: 'my_ws-2' }).code).toBe(0);
  });

  it('refuses no role or two roles, and unsafe user names or passwords', () => {
    for (const flags of [
      {},
      { workspace: 'acme', dataNode: true },
      { dataNode: true, gateway: true },
      { workspace: 'acme', password: 'short' },
      { workspace: 'acme', password: 'has "quotes" in it' },
      { workspace: 'acme', password: 'back\\slash-password' },
      { workspace: 'acme', user: 'two words' },
      { workspace: 'acme', password: true },
    ]) {
      const r = run(flags);
      expect({ flags, code: r.code, out: r.out }).toEqual({ flags, code: 2, out: '' });
      expect(r.err).toMatch(/^overseer nats-config: /);
    }
  });

  it('prints the data node and gateway users, and with --entry the user entry alone', () => {
    const node = natsConfig({ dataNode: true, password: 'node-password-123', entry: true });
    expect(node).not.toContain('authorization');
    expect(node).toMatch(/^# .*\n(# .*\n)*\{\n {2}user: "overseer-data-node"/);
    expect(node).toContain(
      'subscribe: { allow: ["overseer.cmd.*.>", "overseer.evt.>", "$SRV.>", "_INBOX.>"] }',
    );
    expect(node).toContain('publish: { allow: ["overseer.evt.>", "$SRV.PING.overseer"] }');
    expect(node).toContain('allow_responses: { max: 1, expires: "2m" }');
    const gateway = natsConfig({ gateway: true, password: 'gateway-password-123' });
    expect(gateway).toContain('user: "overseer-gateway"');
    expect(gateway).toContain('publish: { allow: ["overseer.cmd.>"] }');
    expect(gateway).toContain('subscribe: { allow: ["_INBOX.>"] }');
  });

  it('is listed in the usage', () => {
    const help = spawnSync(process.execPath, ['bin/overseer.js', 'help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('nats-config --workspace ID [--worker ID] | --data-node | --gateway');
  });
});
