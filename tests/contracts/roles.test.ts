import { execFileSync } from 'node:child_process';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, Scope, ScopeSchema } from '../../src/contracts/scopes.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';

const HUMAN_RIGHTS = ['chat:answer', 'approvals:decide', 'audit:read', 'workflows:admin', 'evidence:write'];

describe('the roles table', () => {
  it('names every role with an exact set of known scopes, and gives the agent none of the human rights', () => {
    expect(Object.keys(ROLES).sort()).toEqual(['admin', 'agent', 'operator', 'runner', 'viewer']);
    for (const [role, scopes] of Object.entries(ROLES)) {
      for (const s of scopes) expect(ScopeSchema.safeParse(s).success, `${role}: ${s}`).toBe(true);
      expect(new Set(scopes).size, role).toBe(scopes.length);
    }
    for (const right of HUMAN_RIGHTS) {
      expect(Object.values(Scope)).toContain(right);
      expect(ROLES.agent as readonly string[]).not.toContain(right);
    }
    expect(ROLES.operator as readonly string[]).toEqual(
      expect.arrayContaining(['chat:answer', 'approvals:decide', 'supervisor:write', 'jobs:write']),
    );
    expect(ROLES.viewer.every((s) => s.endsWith(':read'))).toBe(true);
    expect(ROLES.runner as readonly string[]).not.toContain('queue:work');
  });
});

describe('overseer token create --role', () => {
  let dir: TempDataDir;
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, ['bin/overseer.js', 'token', 'create', '--data-dir', dir.path, ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
      env: { ...process.env, OVERSEER_JWT_SECRET: 'roles-test-secret-0123456789abcdef0123' },
    }).trim();
  beforeAll(() => {
    dir = tempDataDir();
  });
  afterAll(() => dir.remove());

  it("mints a token with exactly the role's scopes, and --scopes adds to them", () => {
    const operator = decodeJwt(cli('--workspace', 'acme', '--role', 'operator'));
    expect(operator['scopes']).toEqual([...ROLES.operator]);
    expect(operator['ws']).toBe('acme');
    expect(operator.sub).toBe('operator');
    const more = decodeJwt(
      cli('--workspace', 'acme', '--role', 'viewer', '--scopes', 'queue:work,jobs:read'),
    );
    expect(more['scopes']).toEqual([...ROLES.viewer, 'queue:work']);
  });

  it('refuses an unknown role, naming the known ones', () => {
    expect(() => cli('--workspace', 'acme', '--role', 'root')).toThrow(
      /Unknown --role "root"\. Known: viewer/,
    );
  });
});
