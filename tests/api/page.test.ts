import { describe, expect, it } from 'vitest';
import { encodeAnswer, pageBudget } from '../../src/api/page.ts';

const job = (i: number, size = 100) => ({ id: `job_${i}`, title: 'é'.repeat(size) });

describe('encodeAnswer', () => {
  it('answers the JSON of an answer that fits, unchanged', () => {
    const page = { jobs: [job(1), job(2)], nextCursor: null };
    expect(encodeAnswer(page, 10_000)).toBe(JSON.stringify(page));
  });

  it('ends a page early under the budget, counting UTF-8 bytes, with the last kept id as cursor', () => {
    const page = { jobs: Array.from({ length: 50 }, (_, i) => job(i)), nextCursor: null };
    const text = encodeAnswer(page, 2_000);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2_000);
    const cut = JSON.parse(text) as { jobs: { id: string }[]; nextCursor: string };
    expect(cut.jobs.length).toBeGreaterThan(3);
    expect(cut.jobs.length).toBeLessThan(50);
    expect(cut.nextCursor).toBe(cut.jobs[cut.jobs.length - 1]!.id);
    expect(cut.jobs).toEqual(page.jobs.slice(0, cut.jobs.length));
  });

  it('names the seq of the last record kept as the events cursor', () => {
    const page = {
      events: Array.from({ length: 40 }, (_, i) => ({ seq: i + 1, reason: 'r'.repeat(100) })),
      nextCursor: null,
    };
    const cut = JSON.parse(encodeAnswer(page, 1_500)) as { events: { seq: number }[]; nextCursor: number };
    expect(cut.nextCursor).toBe(cut.events.length);
  });

  it('keeps at least one item, so paging advances, and leaves other answers whole', () => {
    const page = { workers: [{ id: 'w1', name: 'x'.repeat(5_000) }], nextCursor: 'w0' };
    expect(JSON.parse(encodeAnswer(page, 1_024))).toEqual(page);
    const big = { job: job(1, 5_000), nextCursor: null, other: 1 };
    expect(encodeAnswer(big, 1_024)).toBe(JSON.stringify(big));
  });

  it('leaves room for headers under the NATS max_payload', () => {
    expect(pageBudget(1024 * 1024)).toBe(1024 * 1024 - 8 * 1024);
    expect(pageBudget(undefined)).toBe(1024 * 1024 - 8 * 1024);
    expect(pageBudget(100)).toBe(1024);
  });
});
