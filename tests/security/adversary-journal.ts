/**
 * The journal check of the adversarial race: read the whole journal (`events.list`, paged) and check that every
 * job went RUNNING → COMPLETED / FAILED / RETRY_WAIT only by the worker holding that attempt's claim, that every
 * job ended COMPLETED or FAILED by its own claimer, and that no agent's identity appears on a worker, session or
 * job it did not own or claim.
 */
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import type { JournalRecord } from '../../src/contracts/journal.ts';

/** Every record of the workspace's journal, in seq order. */
export async function readJournal(admin: WorkspaceClient): Promise<JournalRecord[]> {
  const records: JournalRecord[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await admin.events.list({ afterSeq, limit: 500 });
    records.push(...page.events);
    if (page.nextCursor === null) return records;
    afterSeq = page.nextCursor;
  }
}

export interface JournalFacts {
  /** The jobs of the race. */
  jobIds: readonly string[];
  /** The identities (subjects) of each agent: its unbound token's subject and its workers' ids. */
  identities: readonly (readonly string[])[];
  /** The workers the agents claim with (each agent's first, under its own credential). */
  claimers: ReadonlySet<string>;
  /** The owner (agent index) of every worker and session of the race. */
  owner: ReadonlyMap<string, number>;
}

/** What the journal shows, and every way it breaks the rules (empty when none). */
export interface JournalReport {
  records: number;
  claims: number;
  finishedBy: Map<string, number>;
  violations: string[];
}

const LEAVING_RUNNING = new Set(['COMPLETE', 'FAIL']);

export function checkJournal(records: readonly JournalRecord[], facts: JournalFacts): JournalReport {
  const violations: string[] = [];
  const agentOf = new Map<string, number>();
  facts.identities.forEach((ids, i) => ids.forEach((id) => agentOf.set(id, i)));
  const byJob = new Map<string, JournalRecord[]>(facts.jobIds.map((id) => [id, []]));
  let claims = 0;
  const finishedBy = new Map<string, number>();

  for (const r of records) {
    const actor = agentOf.get(r.principal);
    if (r.kind === 'job') {
      const list = byJob.get(r.id);
      if (list) list.push(r);
      else violations.push(`a job outside the race: ${r.id} (${r.event} by ${r.principal})`);
    } else if (actor !== undefined && facts.owner.get(r.id) !== actor) {
      violations.push(
        `${r.principal} (agent ${actor}) changed ${r.kind} ${r.id}: ${r.event} ${r.from} → ${r.to}`,
      );
    }
  }

  for (const [jobId, list] of byJob) {
    let holder: string | null = null;
    for (const r of list) {
      const what = `job ${jobId} seq ${r.seq}: ${r.event} ${r.from} → ${r.to} by ${r.principal}`;
      if (r.event === 'CLAIM') {
        claims++;
        if (r.from !== 'QUEUED' || r.to !== 'RUNNING')
          violations.push(`${what}: a claim not QUEUED → RUNNING`);
        if (!facts.claimers.has(r.principal))
          violations.push(`${what}: claimed by no agent's own worker credential`);
        holder = r.principal;
      } else if (r.from === 'RUNNING') {
        if (!LEAVING_RUNNING.has(r.event)) violations.push(`${what}: left RUNNING other than by its claimer`);
        if (r.principal !== holder) violations.push(`${what}: the claim is ${holder ?? 'nobody'}'s`);
        holder = null;
      } else if (agentOf.has(r.principal)) {
        violations.push(`${what}: an agent changed a job it did not hold`);
      }
    }
    const last = list.at(-1);
    if (!last || (last.to !== 'COMPLETED' && last.to !== 'FAILED'))
      violations.push(`job ${jobId} ended ${last?.to ?? 'unjournaled'}, not COMPLETED or FAILED`);
    else if (last.from !== 'RUNNING')
      violations.push(`job ${jobId} ended by ${last.event}, not by its claimer`);
    else finishedBy.set(last.principal, (finishedBy.get(last.principal) ?? 0) + 1);
  }
  return { records: records.length, claims, finishedBy, violations };
}
