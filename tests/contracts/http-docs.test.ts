// docs/http.md and docs/seed-mapping.md name every route with its command, scope and status, so neither rots.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { commandTable } from '../../src/api/commands.ts';
import { ServerConfigSchema } from '../../src/contracts/server-config.ts';
import { BODY_LIMIT } from '../../src/http/server.ts';
import { PUBLIC_PATHS, routes } from '../../src/http/routes.ts';
import { ROOT } from '../../scripts/gen.ts';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const docPath = (path: string) => path.replace(/:([^/]+)/g, '{$1}');

/** The cells of every table row of a markdown page. */
const tableRows = (md: string) =>
  md
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );

describe('docs/http.md', () => {
  const md = read('docs/http.md');
  const rows = tableRows(md);

  it('has one row per route with its command, scopes and success status', () => {
    for (const route of routes) {
      const row = rows.find((r) => r[0] === `\`${route.method}\`` && r[1] === `\`${docPath(route.path)}\``);
      expect(row, `${route.method} ${route.path}`).toBeDefined();
      const command = commandTable.get(route.command)!;
      expect(row![2]).toBe(`\`${route.command}\``);
      const tokenOnly = command.tokens !== undefined && command.tokens.apiTokens !== true;
      expect(row![3]).toBe(
        tokenOnly
          ? command.tokens!.check
            ? 'a phase or check token'
            : 'a phase token'
          : command.scopes.length === 0
            ? 'any valid token'
            : command.scopes.map((s) => `\`${s}\``).join(' or '),
      );
      expect(row![4]).toBe(String(route.status ?? 200));
    }
    const routeRows = rows.filter(
      (r) => /^`(GET|POST|PATCH|DELETE)`$/.test(r[0]!) && r[1]!.startsWith('`/api'),
    );
    expect(routeRows.length).toBe(routes.length);
  });

  it('documents the operations routes, the body limit and the config example', () => {
    for (const path of [...PUBLIC_PATHS, '/metrics']) expect(md).toContain(`| \`GET\`  | \`${path}\``);
    expect(md).toContain(`${BODY_LIMIT / 1024} KiB`);
    const yaml = /```yaml\n([\s\S]*?)```/.exec(md)?.[1];
    expect(yaml).toBeDefined();
    const parsed = ServerConfigSchema.safeParse(parseYaml(yaml!));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });
});

describe('docs/seed-mapping.md', () => {
  const md = read('docs/seed-mapping.md');

  it('maps every route and names its command', () => {
    const routeRows = tableRows(md).filter((r) => r[0]!.includes('/api/'));
    for (const route of routes) {
      const mention = `\`${route.method} ${docPath(route.path)}\``;
      const row = routeRows.find((r) => r.slice(0, 2).some((cell) => cell.includes(mention)));
      expect(row, `${mention} is not mapped`).toBeDefined();
      expect(row![2], mention).toContain(`\`${route.command}\``);
    }
  });

  it('maps the fields the issue names', () => {
    for (const [seed, ours] of [
      ['workspace_id', 'workspaceId'],
      ['parent_job_id', 'parentJobId'],
      ['depends_on', 'dependsOn'],
      ['repository_url', 'repositoryUrl'],
      ['branch_name', 'branchName'],
      ['worker_count', 'workerCount'],
      ['required_capabilities', 'capabilities'],
      ['execution.timeout_seconds', 'execution.timeoutSeconds'],
      ['max_retries', 'execution.maxRetries'],
      ['lease_seconds', 'leaseSeconds'],
      ['fail_parent_on_failure', 'failParentOnFailure'],
      ['task_id', 'taskId'],
      ['worker_requirements.capabilities', 'capabilities'],
      ['execution.estimated_seconds', 'metadata.estimatedSeconds'],
      ['context_requirements', 'metadata.contextRequirements'],
      ['validation_rules', 'metadata.validationRules'],
    ]) {
      const line = md.split('\n').find((l) => l.includes(`\`${seed}\``) && l.includes(`\`${ours}`));
      expect(line, `${seed} → ${ours}`).toBeDefined();
    }
    expect(md).toContain('`metadata.taskType`');
  });
});
