/**
 * docs/nats-api.md stays true: it prints examples/nats-plain-client.mjs verbatim, has a row for every command of
 * the command table (and none more), and the example runs with node against a data node behind the isolation
 * config that `overseer nats-config` prints.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/api/commands.ts';
import { natsConfig } from '../../src/cli/nats-config.ts';
import { startNatsServer, type NatsServer } from '../../src/testing.ts';
import { startDataNode, tokenFor, type Node } from './support.ts';

const EXAMPLE = 'examples/nats-plain-client.mjs';
const doc = readFileSync('docs/nats-api.md', 'utf8');

describe('docs/nats-api.md', () => {
  it('prints the plain-client example verbatim', () => {
    const block = /```js\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('## A plain client')))?.[1];
    expect(block).toBe(readFileSync(EXAMPLE, 'utf8'));
  });

  it('has one row per command of the command table, and no row for a command that does not exist', () => {
    const section = doc.slice(
      doc.indexOf('## Commands'),
      doc.indexOf('\n## ', doc.indexOf('## Commands') + 1),
    );
    const rows = [...section.matchAll(/^\| `([a-z]+\.[A-Za-z]+)` +\|/gm)].map((m) => m[1]);
    expect(rows.length).toBeGreaterThan(0);
    expect([...rows].sort()).toEqual(commands.map((c) => c.name).sort());
  });

  it('lists every error code of docs/errors.md', () => {
    const codes = [...readFileSync('docs/errors.md', 'utf8').matchAll(/^\| `([A-Z_]+)` /gm)].map(
      (m) => m[1]!,
    );
    expect(codes.length).toBeGreaterThan(10);
    for (const code of codes.filter((c) => c !== 'DATA_DIR_LOCKED')) expect(doc).toContain(`\`${code}\``);
  });
});

describe('examples/nats-plain-client.mjs', () => {
  const password = 'acme-example-password-0123';
  let ns: NatsServer;
  let node: Node;

  beforeAll(async () => {
    ns = await startNatsServer({
      config: [
        'authorization {',
        '  users = [',
        natsConfig({ workspace: 'acme', password, entry: true }),
        natsConfig({ dataNode: true, password: 'data-node-password-0123', entry: true }),
        '  ]',
        '}',
      ].join('\n'),
    });
    node = await startDataNode(`nats://overseer-data-node:data-node-password-0123@127.0.0.1:${ns.port}`);
  });
  afterAll(async () => {
    await node?.close();
    await ns?.stop();
  });

  it('runs with node: submits once, lists, reads an error code and follows its events', async () => {
    const token = await tokenFor('acme', ['jobs:read', 'jobs:write']);
    const { stdout } = await promisify(execFile)(process.execPath, [EXAMPLE], {
      env: {
        ...process.env,
        NATS_URL: ns.url,
        NATS_USER: 'acme',
        NATS_PASSWORD: password,
        OVERSEER_TOKEN: token,
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    const lines = stdout.trim().split('\n');
    const submitted = /^submitted (job_\w+) QUEUED$/.exec(lines.find((l) => l.startsWith('submitted')) ?? '');
    expect(submitted).not.toBeNull();
    const jobId = submitted![1]!;
    expect(lines).toContain('retried with the same key: same job');
    expect(lines).toContain('listed 1 job(s): Hello from NATS');
    expect(lines).toContain('error NOT_FOUND');
    const events = lines.filter((l) => l.startsWith('event '));
    expect(events).toEqual([
      expect.stringMatching(new RegExp(`^event #\\d+ job ${jobId} - -> SUBMITTED$`)),
      expect.stringMatching(new RegExp(`^event #\\d+ job ${jobId} SUBMITTED -> QUEUED$`)),
    ]);

    // The job is the data node's, as any other caller sees it.
    const res = await fetch(`${node.server.url}/api/jobs/${jobId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await res.json()).toMatchObject({ id: jobId, title: 'Hello from NATS', priority: 'high' });
  });
});
