import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@infinity/contracts';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Database, inTransaction } from '../../platform/db/index.js';
import { EventSpine } from '../../platform/events/index.js';
import { testBackends } from '../../platform/testing/backends.js';
import { openTestDatabase } from '../../platform/testing/harness.js';
import type { NodeRunRecord } from '../engine/index.js';
import { ExecutionEvents } from './execution-events.js';
import { EXECUTION_STATUSES, type ExecutionStatus, IllegalTransitionError } from './execution-lifecycle.js';
import { type ActiveRun, ExecutionStores, type NewRun } from './execution-store.js';
import * as statusRepo from './execution-status.repo.js';
import * as repo from './executions.repo.js';

/**
 * The lifecycle as stored: each status-writing statement moves an execution only from the states
 * its move starts from, and of two racing moves only one wins. On the repo and the stores
 * directly (no app, so no worker of its own claims the rows under the test).
 */
for (const kind of testBackends()) {
  describe(`execution lifecycle, stored [${kind}]`, () => {
    let db: Database;
    let orgId: string;
    let flowId: string;
    const k = () => db.kysely;

    beforeAll(async () => {
      db = await openTestDatabase(kind);
      orgId = randomUUID();
      flowId = randomUUID();
      await sql`insert into organizations (id, name, slug, schema_name) values (${orgId}, 'Lifecycle', ${`lc-${orgId}`}, ${`org_lc_${orgId.slice(0, 8)}`})`.execute(
        k(),
      );
      await sql`insert into flows (id, org_id, name, nodes, edges, settings) values (${flowId}, ${orgId}, 'f', '[]'::jsonb, '[]'::jsonb, '{}'::jsonb)`.execute(
        k(),
      );
    });
    afterAll(async () => {
      await db?.close();
    });
    beforeEach(async () => {
      await sql`delete from executions`.execute(k());
    });

    /** An execution stored in `status`; a running one is held by `owner` with a lease that has lapsed. */
    const stored = async (status: ExecutionStatus, o: { owner?: string; reclaims?: number } = {}) => {
      const id = randomUUID();
      const held = status === 'running';
      await sql`insert into executions (id, org_id, flow_id, flow_version, status, trigger, lease_owner, lease_until, reclaims, run_at, started_at)
        values (${id}, ${orgId}, ${flowId}, 1, ${status}, 'manual', ${held ? (o.owner ?? 'w1') : null}, ${held ? sql`now() - interval '1 minute'` : null},
          ${o.reclaims ?? 0}, now() - interval '1 second', now())`.execute(k());
      return id;
    };
    const statusOf = async (id: string) => (await repo.findExecution(k(), id))!.status;
    const newRun = (): NewRun => ({
      id: randomUUID(),
      orgId,
      flowId,
      flowVersion: 1,
      trigger: 'manual',
      startNode: null,
      input: { a: 1 },
      storeData: true,
      usePins: false,
    });
    const end = { status: 'succeeded' as const, output: { ok: true }, error: null, steps: 1, storeOutput: true };
    const wait = { nodeId: 'w', input: null, resumeAt: new Date(Date.now() + 60_000).toISOString(), webhook: true };

    it('finishes, parks and cancels an execution only from the states each move starts from', async () => {
      const cases: [string, (id: string) => Promise<boolean>, ExecutionStatus, ExecutionStatus[]][] = [
        ['finish', (id) => statusRepo.finishExecution(k(), id, 'w1', end), 'succeeded', ['running']],
        ['park', (id) => statusRepo.parkExecution(k(), id, 'w1', wait), 'waiting', ['running']],
        ['cancel', (id) => statusRepo.cancelExecution(k(), orgId, id), 'canceled', ['queued', 'running', 'waiting']],
      ];
      for (const [move, apply, target, sources] of cases)
        for (const from of EXECUTION_STATUSES) {
          const id = await stored(from);
          const legal = sources.includes(from);
          expect(await apply(id), `${move} from ${from}`).toBe(legal);
          expect(await statusOf(id), `${move} from ${from}`).toBe(legal ? target : from);
        }
      // Fenced by the lease as well: another owner's finish or park is refused.
      const theirs = await stored('running', { owner: 'w2' });
      expect(await statusRepo.finishExecution(k(), theirs, 'w1', end)).toBe(false);
      expect(await statusRepo.parkExecution(k(), theirs, 'w1', wait)).toBe(false);
      expect(await statusOf(theirs)).toBe('running');
    });

    it('claims queued, due waiting and lapsed running executions, abandons one taken over too often, and leaves ended ones alone', async () => {
      const ids = Object.fromEntries(await Promise.all(EXECUTION_STATUSES.map(async (s) => [s, await stored(s)] as const))) as Record<ExecutionStatus, string>;
      const looping = await stored('running', { reclaims: 3 });
      const r = await statusRepo.claim(k(), 'w9', 100, 30_000, 3);
      expect(new Set(r.ids)).toEqual(new Set([ids.queued, ids.waiting, ids.running]));
      expect(r.failed.map((f) => f.id)).toEqual([looping]);
      for (const s of EXECUTION_STATUSES) expect(await statusOf(ids[s]), s).toBe(s === 'queued' || s === 'waiting' ? 'running' : s);
      expect(await repo.findExecution(k(), looping)).toMatchObject({ status: 'failed', error: { code: 'EXECUTION_CRASHED_TOO_OFTEN' }, lease_owner: null });
      // The takeover of a lapsed lease is counted; a first claim is not.
      const rows = await sql<{
        id: string;
        reclaims: number;
        lease_owner: string;
      }>`select id, reclaims, lease_owner from executions where id = any(${r.ids}::uuid[])`.execute(k());
      for (const row of rows.rows) expect(row).toMatchObject({ lease_owner: 'w9', reclaims: row.id === ids.running ? 1 : 0 });
    });

    it('creates rows only in the states a new execution may start in', async () => {
      const queued = newRun();
      const running = newRun();
      await statusRepo.insertExecutions(k(), [
        { ...queued, leaseMs: 1000 },
        { ...running, owner: 'w1', leaseMs: 1000 },
      ]);
      expect(await statusOf(queued.id)).toBe('queued');
      expect(await repo.findExecution(k(), running.id)).toMatchObject({ status: 'running', lease_owner: 'w1', claims: 1 });
      const at = new Date();
      const record = (status: string) => ({
        id: randomUUID(),
        runs: [],
        store: { data: true, cap: 1000 },
        status: status as 'failed',
        output: null,
        error: null,
        steps: 0,
        storeOutput: true,
        execution: newRun(),
        startedAt: at,
        finishedAt: at,
      });
      const ok = record('failed');
      await statusRepo.recordManyWithRuns(k(), [{ ...ok, execution: { ...ok.execution, id: ok.id } }]);
      expect(await statusOf(ok.id)).toBe('failed');
      await expect(statusRepo.recordManyWithRuns(k(), [record('canceled')])).rejects.toThrow(IllegalTransitionError);
    });

    it('lets only one of many concurrent claims take each execution', async () => {
      const ids = await Promise.all(Array.from({ length: 12 }, () => stored('queued')));
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => statusRepo.claim(k(), `w${i}`, 4, 30_000)));
      const taken = claims.flatMap((c, i) => c.ids.map((id) => ({ id, owner: `w${i}` })));
      // Every execution claimed exactly once (six claims of four have room for all twelve).
      expect(taken.map((t) => t.id).sort()).toEqual([...ids].sort());
      const rows = (await sql<{ id: string; lease_owner: string; claims: number }>`select id, lease_owner, claims from executions`.execute(k())).rows;
      for (const t of taken) expect(rows.find((r) => r.id === t.id)).toMatchObject({ lease_owner: t.owner, claims: 1 });
    });

    it('lets only one of two racing moves win: finish against cancel, finish against finish', async () => {
      for (let i = 0; i < 8; i++) {
        const id = await stored('running');
        const [finished, canceled] = await Promise.all([statusRepo.finishExecution(k(), id, 'w1', end), statusRepo.cancelExecution(k(), orgId, id)]);
        expect(finished !== canceled, `round ${i}`).toBe(true);
        expect(await statusOf(id)).toBe(finished ? 'succeeded' : 'canceled');
      }
      const id = await stored('running');
      const both = await Promise.all([statusRepo.finishExecution(k(), id, 'w1', end), statusRepo.finishExecution(k(), id, 'w1', { ...end, status: 'failed' })]);
      expect(both.filter(Boolean)).toHaveLength(1);
      expect(await statusOf(id)).toBe(both[0] ? 'succeeded' : 'failed');
    });

    describe('stores', () => {
      const spine = new EventSpine();
      const seen: DomainEvent[] = [];
      for (const type of ['execution.queued', 'execution.succeeded', 'execution.failed'] as const) spine.subscribe(type, (e) => void seen.push(e));
      let stores: ExecutionStores;
      beforeAll(() => {
        stores = new ExecutionStores({ db: db.kysely, events: new ExecutionEvents(spine), owner: 'w1', leaseMs: 30_000 });
      });
      beforeEach(() => {
        seen.length = 0;
      });
      const active = (e: NewRun): ActiveRun => ({
        id: e.id,
        orgId,
        flowId,
        store: { data: true, cap: 10_000 },
        fresh: e,
        buffered: [],
        startedAt: new Date(),
        began: performance.now(),
      });
      const node = (id: string): NodeRunRecord => ({
        nodeId: id,
        nodeName: id,
        nodeType: 'core.set',
        status: 'succeeded',
        ports: { main: { id } },
        input: null,
        error: null,
        logs: [],
        attempts: 1,
        startedAt: new Date(),
        finishedAt: new Date(),
      });

      it('chooses the path in one place', () => {
        expect(stores.choose({ inline: false, pure: true }).path).toBe('queued');
        expect(stores.choose({ inline: true, pure: false }).path).toBe('inline');
        expect(stores.choose({ inline: true, pure: true }).path).toBe('pure');
      });

      it('emits execution.queued with the queueing transaction: after its commit, never after a rollback', async () => {
        const rolledBack = newRun();
        await expect(
          inTransaction(k(), async (uow) => {
            await stores.queued.create(rolledBack, uow);
            throw new Error('changed my mind');
          }),
        ).rejects.toThrow('changed my mind');
        expect(seen).toEqual([]);
        expect(await repo.findExecution(k(), rolledBack.id)).toBeUndefined();
        const kept = newRun();
        await inTransaction(k(), async (uow) => {
          await stores.queued.create(kept, uow);
          expect(seen).toEqual([]);
        });
        expect(seen).toMatchObject([{ type: 'execution.queued', executionId: kept.id, flowId, orgId, trigger: 'manual', permission: 'executions:read' }]);
      });

      it('writes the inline path first as running, its node runs with the result, and says so after the commit', async () => {
        const e = newRun();
        await stores.inline.create(e);
        expect(await repo.findExecution(k(), e.id)).toMatchObject({ status: 'running', lease_owner: 'w1' });
        const run = active(e);
        expect(await stores.inline.saveNodeRun(run, node('a'))).toBe(true);
        expect(await repo.nodeRuns(k(), e.id)).toEqual([]);
        expect(await stores.inline.finish(run, end)).toBe(true);
        expect((await repo.nodeRuns(k(), e.id)).map((r) => r.node_id)).toEqual(['a']);
        expect(seen.map((x) => x.type)).toEqual(['execution.queued', 'execution.succeeded']);
      });

      it('writes a pure run once, at its end; a refused finish emits nothing', async () => {
        const e = newRun();
        await stores.pure.create(e);
        expect(await repo.findExecution(k(), e.id)).toBeUndefined();
        const run = active(e);
        await stores.pure.saveNodeRun(run, node('a'));
        expect(await stores.pure.finish(run, { ...end, status: 'failed', error: { nodeId: 'a', code: 'X', message: 'no' } })).toBe(true);
        expect(await repo.findExecution(k(), e.id)).toMatchObject({ status: 'failed' });
        expect(seen).toMatchObject([
          { type: 'execution.queued', executionId: e.id },
          { type: 'execution.failed', executionId: e.id, error: { nodeId: 'a', code: 'X', message: 'no' } },
        ]);

        seen.length = 0;
        const canceled = newRun();
        await stores.inline.create(canceled);
        expect(await statusRepo.cancelExecution(k(), orgId, canceled.id)).toBe(true);
        expect(await stores.inline.finish(active(canceled), end)).toBe(false);
        expect(await stores.queued.finish(active(canceled), end)).toBe(false);
        expect(seen.map((x) => x.type)).toEqual(['execution.queued']);
        expect(await statusOf(canceled.id)).toBe('canceled');
      });
    });
  });
}
