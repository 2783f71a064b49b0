/**
 * NATS faults (issue "NATS", section Faults), against a real nats-server and a data node:
 * 1. the nats-server is stopped and started again twice under load: every request settles (an answer or an
 *    explicit error, none hangs), clients retry with the same idempotency key, the history checker finds nothing
 *    lost or applied twice, the data node reconnects by itself and events resume (events.list fills the gap);
 * 2. a dead subscriber (never reads its socket) and blocked ones (handlers that never return) never slow the
 *    runtime; their drops are counted where they happen.
 *
 * Reproduce a run with the seed it prints: `FAULT_SEED=<seed> npx vitest run tests/nats/faults.test.ts`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Job, Worker } from '../../src/index.ts';
import { startNatsServer, tempDataDir } from '../../src/testing.ts';
import { NatsBus } from '../../src/transport/nats-bus.ts';
import { subjects } from '../../src/transport/subjects.ts';
import { checkHistory, describeReport, History } from '../support/history.ts';
import {
  Attempts,
  FaultClient,
  deadSubscriber,
  jobInput,
  keyOfTitle,
  mulberry32,
  sleep,
  until,
  type CallResult,
  type EventRecord,
} from './fault-workload.ts';
import { startDataNode, tokenFor } from './support.ts';

const SEED = Number(process.env['FAULT_SEED'] ?? 20_260_106);
console.log(
  `NATS fault test seed ${SEED} (reproduce: FAULT_SEED=${SEED} npx vitest run tests/nats/faults.test.ts)`,
);

const SCOPES = ['jobs:read', 'jobs:write', 'supervisor:read', 'supervisor:write', 'queue:work'] as const;
/** Each request's timeout; a request unsettled this long past it counts as hung. */
const ATTEMPT_TIMEOUT_MS = 1_500;
const HUNG_AFTER_MS = 5_000;
/** How long one logical operation keeps retrying. */
const DEADLINE_MS = 20_000;
const CLIENTS = 3;
const SUBMIT_LANES = 4;
const DOWNTIMES_MS = [1_500, 1_000];

const clientBus = (url: string, name: string, extra: { maxPendingMessages?: number } = {}) =>
  NatsBus.connect({ servers: url, name, reconnectTimeWaitMs: 100, ...extra });

const countBy = <T>(items: readonly T[], key: (item: T) => string | null): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
};

/** Runs `fn`, then every cleanup registered during it (last first), whatever happened. */
async function withCleanup(fn: (defer: (cleanup: () => unknown) => void) => Promise<void>): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  try {
    await fn((cleanup) => cleanups.push(cleanup));
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  }
}

describe('NATS faults', () => {
  it(
    'survives nats-server restarts under load: every request settles, each key applies once, events resume',
    { timeout: 50_000 },
    () =>
      withCleanup(async (defer) => {
        const ws = 'faults';
        const ns = await startNatsServer();
        defer(() => ns.stop());
        // Workers never heartbeat here: keep them from going OFFLINE so the checker sees PAUSED or IDLE.
        const configDir = tempDataDir('overseer-fault-config-');
        defer(() => configDir.remove());
        const configFile = join(configDir.path, 'overseer.config.yaml');
        writeFileSync(configFile, 'heartbeatTimeoutSeconds: 86400\n');
        const node = await startDataNode(ns.url, { config: configFile });
        defer(() => node.close());
        const nodeBus = node.server.bus!;
        const nodeRuntime = node.server.ov!;
        const nodeStatus: { type: string; at: number }[] = [];
        nodeBus.onStatus((s) => nodeStatus.push({ type: s.type, at: Date.now() }));
        const serverIdBefore = nodeBus.connection.info?.server_id;

        const token = await tokenFor(ws, SCOPES);
        const attempts = new Attempts(HUNG_AFTER_MS);
        const clients: FaultClient[] = [];
        for (let c = 0; c < CLIENTS; c++) {
          const bus = await clientBus(ns.url, `fault-client-${c}`);
          defer(() => bus.close());
          clients.push(
            new FaultClient(bus, {
              workspaceId: ws,
              token,
              attempts,
              attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
              deadlineMs: DEADLINE_MS,
              rand: mulberry32(SEED + c),
            }),
          );
        }
        const verifier = clients[0]!;

        // A subscriber of the workspace's events, up through both restarts.
        const subBus = await clientBus(ns.url, 'fault-subscriber');
        defer(() => subBus.close());
        const seen = new Map<number, { record: EventRecord; at: number }>();
        subBus.subscribe(subjects.workspaceEvents(ws), (payload) => {
          const record = payload as EventRecord;
          seen.set(record.seq, { record, at: Date.now() });
        });
        await subBus.flush();
        const servicePing = async () =>
          (await subBus.connection.request('$SRV.PING.overseer', '', { timeout: 2_000 })).json<{
            id: string;
          }>();
        const serviceBefore = await servicePing();

        const history = new History();
        const results: { f: string; key: string; result: CallResult }[] = [];
        let stop = false;
        const submitLane = async (c: number, l: number) => {
          const rand = mulberry32(SEED ^ Math.imul(c * 16 + l + 1, 0x9e3779b1));
          const process = `c${c}.l${l}`;
          for (let n = 0; !stop; n++) {
            const key = `${c}.${l}.${n}`;
            const result = await clients[c]!.call('jobs.submit', jobInput(key), key, { history, process });
            results.push({ f: 'jobs.submit', key, result });
            await sleep(Math.floor(rand() * 8));
          }
        };
        const workerLane = async (c: number) => {
          const rand = mulberry32(SEED ^ Math.imul(c + 101, 0x85ebca6b));
          const process = `c${c}.w`;
          const client = clients[c]!;
          const register = await client.call('workers.register', { name: `fault-worker-${c}` }, `wk${c}`, {
            history,
            process,
          });
          results.push({ f: 'workers.register', key: `wk${c}`, result: register });
          if (register.kind !== 'ok') return;
          const workerId = (register.value as Worker).id;
          let status = (register.value as Worker).status;
          for (let n = 0; !stop; n++) {
            const f = status === 'PAUSED' ? 'workers.resume' : 'workers.pause';
            const key = `w${c}.${n}`;
            const result = await client.call(f, { workerId }, key, { history, process, args: { workerId } });
            results.push({ f, key, result });
            if (result.kind === 'ok') status = (result.value as Worker).status;
            else status = (await client.must<Worker>('workers.get', { workerId })).status;
            await sleep(Math.floor(rand() * 8));
          }
        };
        const load = Promise.all([
          ...Array.from({ length: CLIENTS }, (_, c) => [
            ...Array.from({ length: SUBMIT_LANES }, (_, l) => submitLane(c, l)),
            workerLane(c),
          ]).flat(),
        ]);

        // If an assertion fails mid-run, stop the lanes before the buses close under them.
        defer(() => (stop = true));
        load.catch(() => undefined); // awaited below; a rejection must not go unhandled meanwhile

        // The node's readiness, as a load balancer would poll it.
        const readiness: { at: number; status: number }[] = [];
        let polling = true;
        defer(() => (polling = false));
        const poller = (async () => {
          while (polling) {
            const res = await fetch(`${node.server.url}/readyz`).catch(() => undefined);
            if (res) readiness.push({ at: Date.now(), status: res.status });
            await res?.arrayBuffer();
            await sleep(50);
          }
        })();

        // Two outages: stop the server, keep it down, start it on the same port; wait for the data node.
        const outages: { down: number; up: number; nodeBack: number }[] = [];
        await sleep(1_500);
        for (const downtimeMs of DOWNTIMES_MS) {
          const reconnects = nodeStatus.filter((s) => s.type === 'reconnect').length;
          const down = Date.now();
          await ns.restart({ downtimeMs });
          const up = Date.now();
          await until(
            () => nodeBus.isConnected && nodeStatus.filter((s) => s.type === 'reconnect').length > reconnects,
            15_000,
            'the data node to reconnect',
          );
          outages.push({ down, up, nodeBack: Date.now() });
          await sleep(1_500);
        }
        stop = true;
        await load;
        polling = false;
        await poller;

        // Every request settled: none is in flight, none hung; some were sent during the outages and failed
        // there with an explicit, retryable error.
        expect([...attempts.inFlight]).toEqual([]);
        expect(attempts.all.filter((a) => a.outcome === 'hung')).toEqual([]);
        const inOutage = (at: number) => outages.some((o) => at >= o.down && at <= o.nodeBack);
        const duringOutages = attempts.counts((a) => inOutage(a.startedAt));
        const retryableDuringOutages =
          (duringOutages['timeout'] ?? 0) +
          (duringOutages['disconnected'] ?? 0) +
          (duringOutages['no_responders'] ?? 0);
        expect(retryableDuringOutages).toBeGreaterThan(0);
        expect(duringOutages['error'] ?? 0).toBe(0);
        // Every logical operation got its answer within its deadline (retries included).
        expect(results.filter((r) => r.result.kind !== 'ok')).toEqual([]);
        const retried = results.filter((r) => r.result.attempts > 1);
        expect(retried.filter((r) => r.f === 'jobs.submit').length).toBeGreaterThan(0);

        // The data node reconnected by itself: the same bus, runtime and service instance, on the new server.
        expect(node.server.bus).toBe(nodeBus);
        expect(node.server.ov).toBe(nodeRuntime);
        expect(nodeBus.isConnected).toBe(true);
        expect(nodeStatus.filter((s) => s.type === 'disconnect').length).toBeGreaterThanOrEqual(2);
        expect(nodeBus.connection.info?.server_id).not.toBe(serverIdBefore);
        expect((await servicePing()).id).toBe(serviceBefore.id);
        // It said so at /readyz: not ready while NATS was away, ready again after.
        expect(readiness.filter((r) => r.status === 503 && inOutage(r.at)).length).toBeGreaterThan(0);
        expect(readiness[readiness.length - 1]?.status).toBe(200);

        // The final state, read through the data node, against the history.
        const jobs = await verifier.allJobs();
        const workers = await verifier.allWorkers();
        const jobCounts = countBy(jobs, (j) => keyOfTitle(j.title));
        const workerCounts = countBy(workers, (w) => /^fault-worker-(\d+)$/.exec(w.name)?.[1] ?? null);
        const statusById = new Map(workers.map((w) => [w.id, w.status]));
        const report = checkHistory(history, {
          keyed: [
            {
              fs: ['jobs.submit'],
              applied: (key) => jobCounts.get(key) ?? 0,
              present: jobCounts.keys(),
              identity: (value) => (value as Job).id,
            },
            {
              fs: ['workers.register'],
              applied: (key) => workerCounts.get(key.slice(2)) ?? 0,
              present: [...workerCounts.keys()].map((c) => `wk${c}`),
              identity: (value) => (value as Worker).id,
            },
          ],
          registers: [
            {
              fs: ['workers.pause', 'workers.resume'],
              target: (op) => (op.args as { workerId: string }).workerId,
              expected: (op) => (op.f === 'workers.pause' ? 'PAUSED' : 'IDLE'),
              observed: (id) => statusById.get(id),
            },
          ],
        });
        const why = `seed ${SEED}: ${describeReport(report)}`;
        expect(report.lost, why).toBe(0);
        expect(report.duplicated, why).toBe(0);
        expect(report.unexpected, why).toBe(0);
        expect(report.failedButApplied, why).toBe(0);
        expect(report.divergent, why).toBe(0);
        expect(report.registerInconsistent, why).toBe(0);
        expect(report.pass, why).toBe(true);
        // Every acknowledged submit is there exactly once, retried ones included.
        const submits = results.filter((r) => r.f === 'jobs.submit');
        expect(submits.filter((r) => jobCounts.get(r.key) !== 1)).toEqual([]);
        expect(jobs.length).toBe(submits.length);

        // A replay of every retried submit answers the first job and creates nothing.
        const replayed = await Promise.all(
          retried
            .filter((r) => r.f === 'jobs.submit')
            .slice(0, 200)
            .map(async (r) => ({
              first: (r.result as { value: Job }).value.id,
              again: (await verifier.must<Job>('jobs.submit', jobInput(r.key), r.key)).id,
            })),
        );
        expect(replayed.filter((r) => r.first !== r.again)).toEqual([]);

        // Events resumed: the subscriber sees the event of a command made after the restarts…
        const marker = await verifier.must<Job>('jobs.submit', { title: 'after the restarts' });
        await until(
          () => [...seen.values()].some((e) => e.record.id === marker.id && e.record.to === 'QUEUED'),
          10_000,
          'the event of a command made after the restarts',
        );
        const lastBack = outages[outages.length - 1]!.nodeBack;
        expect([...seen.values()].filter((e) => e.at > lastBack).length).toBeGreaterThan(1);
        // …and events.list fills whatever it missed, as a client would: each gap between the seqs it saw.
        const seqs = [...seen.keys()].sort((a, b) => a - b);
        const filled = new Map<number, EventRecord>();
        let gaps = 0;
        for (let i = 0, prev = 0; i < seqs.length; prev = seqs[i]!, i++) {
          if (seqs[i]! === prev + 1) continue;
          gaps++;
          for (const record of await verifier.events(prev, seqs[i]! - 1)) filled.set(record.seq, record);
        }
        const journal = await verifier.events(0);
        expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
        expect(journal[journal.length - 1]!.seq).toBe(seqs[seqs.length - 1]);
        const union = new Map([...filled, ...[...seen].map(([seq, e]) => [seq, e.record] as const)]);
        expect([...union.keys()].sort((a, b) => a - b)).toEqual(journal.map((e) => e.seq));
        for (const record of journal) expect(union.get(record.seq)).toEqual(record);
        // Two journal records per applied submit (SUBMITTED, QUEUED; the marker's too), one per register, pause
        // and resume.
        const transitions = new Set(
          history
            .select(undefined, 'ok')
            .filter((op) => op.f === 'workers.pause' || op.f === 'workers.resume')
            .map((op) => op.key),
        );
        expect(journal.length).toBe(2 * (jobs.length + 1) + workers.length + transitions.size);

        console.log(
          `nats faults ${JSON.stringify({
            seed: SEED,
            submits: submits.length,
            workerOps: results.filter((r) => r.f !== 'jobs.submit').length,
            retriedOps: retried.length,
            attempts: attempts.counts(),
            duringOutages,
            outagesMs: outages.map((o) => ({ server: o.up - o.down, node: o.nodeBack - o.down })),
            slowestSettleMs: Math.max(...attempts.all.map((a) => a.settledAt! - a.startedAt)),
            events: journal.length,
            missedBySubscriber: journal.length - seen.size,
            gaps,
            nodePublishDrops: nodeBus.dropped,
          })}\n${describeReport(report)}`,
        );
      }),
  );

  it(
    'never lets a dead or blocked subscriber slow the runtime; each drop is counted where it happens',
    { timeout: 40_000 },
    () =>
      withCleanup(async (defer) => {
        const ws = 'slow';
        // The server cuts off a client it cannot write to for 2 s, or with 1 MiB waiting for it.
        const ns = await startNatsServer({ config: 'max_pending: 1048576\nwrite_deadline: "2s"' });
        defer(() => ns.stop());
        const node = await startDataNode(ns.url);
        defer(() => node.close());
        const nodeBus = node.server.bus!;
        const token = await tokenFor(ws, SCOPES);
        const varz = async () =>
          (await (await fetch(`${ns.monitorUrl}/varz`)).json()) as {
            slow_consumers: number;
            connections: number;
          };

        // A plain client that subscribes to the workspace's events and never reads again.
        const dead = await deadSubscriber(ns.port, subjects.workspaceEvents(ws));
        defer(() => dead.destroy());
        // A subscriber in this process whose handler never returns, with a buffer of 100 events; a fast one
        // on the same connection counts what arrived.
        const blockedBus = await clientBus(ns.url, 'blocked-subscriber', { maxPendingMessages: 100 });
        defer(() => blockedBus.close());
        let held = 0;
        let arrived = 0;
        const eventSubject = `overseer.evt.${ws}.*.*.*`;
        blockedBus.subscribe(eventSubject, () => {
          held++;
          return new Promise<void>(() => undefined);
        });
        blockedBus.subscribe(eventSubject, () => void arrived++);
        // A subscriber inside the data node's process (as a plugin would be), as stuck, with the node's
        // default buffer (10,000 events).
        let nodeArrived = 0;
        nodeBus.subscribe(eventSubject, () => new Promise<void>(() => undefined));
        nodeBus.subscribe(eventSubject, () => void nodeArrived++);
        await Promise.all([blockedBus.flush(), nodeBus.flush()]);
        const slowBefore = (await varz()).slow_consumers;

        const bus = await clientBus(ns.url, 'slow-test-client');
        defer(() => bus.close());
        const client = new FaultClient(bus, {
          workspaceId: ws,
          token,
          attempts: new Attempts(HUNG_AFTER_MS),
          attemptTimeoutMs: 10_000,
          deadlineMs: 0,
          rand: mulberry32(SEED),
        });
        // 1,000 submits, 16 at a time, then 10,000 more in ten batches: 22,000 events (SUBMITTED, QUEUED).
        const SINGLE = 1_000;
        const BATCHES = 10;
        const started = performance.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next < SINGLE) {
              const key = `s${next++}`;
              await client.must<Job>('jobs.submit', jobInput(key), key);
            }
          }),
        );
        const singleMs = performance.now() - started;
        for (let b = 0; b < BATCHES; b++) {
          const batch = Array.from({ length: 1_000 }, (_, i) => jobInput(`b${b}.${i}`));
          const answer = await client.must<{ jobs: Job[] }>('jobs.submitMany', { jobs: batch }, `b${b}`);
          expect(answer.jobs).toHaveLength(1_000);
        }
        const events = 2 * (SINGLE + BATCHES * 1_000);

        // Everything arrived at both processes; each blocked handler holds one event, 100 (or 10,000) wait in
        // its buffer, and the rest were dropped and counted by the bus of its own process.
        await until(() => arrived === events && nodeArrived === events, 20_000, 'every event to arrive');
        expect(held).toBe(1);
        expect(blockedBus.metrics().droppedMessages).toBe(events - 1 - 100);
        expect(nodeBus.metrics().droppedMessages).toBe(events - 1 - 10_000);
        const metricsText = await (
          await fetch(`${node.server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
        ).text();
        expect(metricsText).toContain(
          `overseer_bus_subscriber_dropped_messages_total ${events - 1 - 10_000}`,
        );
        // The node published every event; none was lost on its side.
        expect(nodeBus.metrics()).toMatchObject({ dropped: 0 });
        expect(nodeBus.metrics().published).toBeGreaterThanOrEqual(events);

        // The dead client is nobody's problem but the server's: it cut it off as a slow consumer.
        await until(
          async () => (await varz()).slow_consumers > slowBefore,
          10_000,
          'nats-server to cut off the dead subscriber',
        );
        // And the node still answers at once.
        const after = await client.must<Job>('jobs.submit', jobInput('after'), 'after');
        expect(await client.must<Job>('jobs.get', { jobId: after.id })).toMatchObject({
          id: after.id,
          status: 'QUEUED',
        });
        expect(nodeBus.isConnected).toBe(true);
        console.log(
          `nats slow subscribers ${JSON.stringify({
            events,
            singleSubmitsMs: Math.round(singleMs),
            totalMs: Math.round(performance.now() - started),
            blockedDropped: blockedBus.droppedMessages,
            nodeDropped: nodeBus.droppedMessages,
            serverSlowConsumers: (await varz()).slow_consumers,
          })}`,
        );
      }),
  );
});
