import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type RawBuilder, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  EXECUTION_STATUSES,
  EXECUTION_TRANSITIONS,
  type ExecutionOrigin,
  IllegalTransitionError,
  type TransitionName,
  canTransition,
  checkTransition,
  isTerminal,
} from './execution-lifecycle.js';
import { transitionSql } from './execution-status.repo.js';

/** The lifecycle as the README draws it, written out by hand: the table must say exactly this. */
const LEGAL = new Set([
  '(new)→queued',
  '(new)→running',
  '(new)→succeeded',
  '(new)→failed',
  'queued→running',
  'queued→canceled',
  'waiting→running',
  'waiting→canceled',
  'running→running',
  'running→waiting',
  'running→succeeded',
  'running→failed',
  'running→canceled',
]);
const label = (from: ExecutionOrigin, to: string) => `${from ?? '(new)'}→${to}`;
const ORIGINS: ExecutionOrigin[] = [null, ...EXECUTION_STATUSES];
/** Compiles SQL without a database. */
const offline = new Kysely<object>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe('the execution lifecycle', () => {
  it('allows exactly the drawn transitions, and refuses every other pair of states', () => {
    const allowed = ORIGINS.flatMap((from) => EXECUTION_STATUSES.filter((to) => canTransition(from, to)).map((to) => label(from, to)));
    expect(new Set(allowed)).toEqual(LEGAL);
    // 7 origins × 6 targets: 13 legal, 29 refused.
    expect(ORIGINS.length * EXECUTION_STATUSES.length - allowed.length).toBe(29);
  });

  it('has no way out of an ended execution', () => {
    for (const s of EXECUTION_STATUSES) {
      const exits = EXECUTION_STATUSES.filter((to) => canTransition(s, to));
      expect(isTerminal(s), s).toBe(exits.length === 0);
    }
    expect(EXECUTION_STATUSES.filter(isTerminal)).toEqual(['succeeded', 'failed', 'canceled']);
  });

  it('checks each named move: its targets and its sources', () => {
    for (const [name, m] of Object.entries(EXECUTION_TRANSITIONS) as [TransitionName, (typeof EXECUTION_TRANSITIONS)[TransitionName]][]) {
      for (const from of ORIGINS)
        for (const to of EXECUTION_STATUSES) {
          const legal = (m.from as readonly ExecutionOrigin[]).includes(from) && (m.to as readonly string[]).includes(to);
          if (legal) expect(checkTransition(name, to, from), `${name} ${label(from, to)}`).toBe(to);
          else expect(() => checkTransition(name, to, from), `${name} ${label(from, to)}`).toThrow(IllegalTransitionError);
        }
    }
    expect(() => checkTransition('finish', 'canceled')).toThrow('Illegal execution transition "finish": running → canceled.');
    expect(() => checkTransition('park', 'waiting', 'queued')).toThrow('queued → waiting');
    expect(() => checkTransition('cancel', 'canceled', 'succeeded')).toThrow(IllegalTransitionError);
  });

  it('guards the UPDATE of a move with exactly the states it starts from', () => {
    const compile = (r: RawBuilder<unknown>) => r.compile(offline).sql.replace(/\s+/g, ' ');
    expect(compile(transitionSql('cancel', { to: 'canceled', where: sql`e.id = ${'x'}` }))).toBe(
      "update executions e set status = 'canceled' where (e.id = $1) and e.status in ('queued', 'running', 'waiting') ",
    );
    // A batch whose rows end differently is guarded to the move's targets too.
    expect(compile(transitionSql('finish', { to: sql`d.status`, from: sql`d`, where: sql`e.id = d.id`, returning: sql`e.id` }))).toBe(
      "update executions e set status = d.status from d where (e.id = d.id) and e.status in ('running') and d.status in ('succeeded', 'failed') returning e.id",
    );
    // A move that creates the row is an insert: no UPDATE applies it.
    for (const name of ['queue', 'start', 'record'] as const) expect(() => transitionSql(name, { to: 'queued', where: sql`true` })).toThrow('insert');
    // A single target outside the move is refused before any SQL is built.
    expect(() => transitionSql('park', { to: 'succeeded', where: sql`true` })).toThrow(IllegalTransitionError);
  });
});
