import { describe, expect, it } from 'vitest';
import type { OverseerError } from '../../src/core/errors.ts';
import { JobSubmitSchema } from '../../src/contracts/job.ts';
import { parse } from '../../src/api/validation.ts';

function failure(value: unknown): OverseerError {
  try {
    parse(JobSubmitSchema, value);
  } catch (err) {
    return err as OverseerError;
  }
  throw new Error('expected VALIDATION_FAILED');
}

describe('validation messages', () => {
  it('gives each field its own text', () => {
    const err = failure({ priority: 'urgent' });
    expect(err.code).toBe('VALIDATION_FAILED');
    const issues = (err.details as { issues: { path: string; message: string }[] }).issues;
    const title = issues.find((i) => i.path === 'title')!;
    const priority = issues.find((i) => i.path === 'priority')!;
    expect(title.message).not.toBe(priority.message);
    expect(err.message).toContain(`title: ${title.message}`);
    expect(err.message).toContain(`priority: ${priority.message}`);
  });

  it('says a payload that is not an object must be one, whatever the fields', () => {
    for (const value of [[], [{ title: 'x' }], 'a job', 42, null]) {
      const err = failure(value);
      expect(err.message).toBe('Invalid (root): the payload must be a JSON object.');
      expect(err.message).not.toContain('title');
    }
  });
});
