import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { findDrift, ROOT, schemaEntries } from '../../scripts/gen.ts';
import { publishedSchemaPath, publishedSchemas } from '../../src/contracts/published-schemas.ts';

const load = (name: string): object =>
  JSON.parse(readFileSync(join(ROOT, publishedSchemaPath(name)), 'utf8')) as object;

describe('schemas/*.schema.json', () => {
  it('publishes the workflow file and the seven artifacts', () => {
    expect(schemaEntries().map((e) => e.path)).toEqual(
      [
        'agent_workflow',
        'plan',
        'scope',
        'tests',
        'test_result',
        'implementation',
        'review',
        'completion',
      ].map(publishedSchemaPath),
    );
  });

  it('match what npm run gen writes from the zod schemas', async () => {
    // Orphans are the whole registry's business (tests/machines/statecharts-drift.test.ts); here only content counts.
    const drift = await findDrift(schemaEntries());
    expect(drift.filter((d) => d.reason !== 'orphan')).toEqual([]);
    const changed = { path: publishedSchemaPath('plan'), render: () => '{}\n' };
    expect(await findDrift([changed])).toContainEqual({ path: changed.path, reason: 'differs' });
  });

  it('the published workflow schema accepts the default workflow and refuses an unknown gate (as an editor would)', () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(load('agent_workflow'));
    const doc = parse(readFileSync(join(ROOT, 'workflows', 'default.yaml'), 'utf8'));
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    doc.transitions[0].gates = ['looks_good'];
    expect(validate(doc)).toBe(false);
  });

  it.each(Object.keys(publishedSchemas).filter((n) => n !== 'agent_workflow'))(
    'the published %s schema agrees with its zod schema on a minimal invalid value',
    (name) => {
      const ajv = new Ajv2020({ strict: false });
      expect(ajv.compile(load(name))({})).toBe(publishedSchemas[name]!.safeParse({}).success);
    },
  );
});
