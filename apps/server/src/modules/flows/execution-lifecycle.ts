import type { ExecutionStatus } from '@infinity/contracts';

/**
 * The lifecycle of an execution: its states and every move between them, in one table. It is
 * pure (no clock, no database); `execution-status.repo.ts` applies a move to stored rows with one
 * guarded UPDATE (`transitionSql`: `… where status in (<from>)`), so a row that is no longer in a
 * state the move starts from is left alone and the move is refused — of two racing moves (a claim
 * and a cancel, two workers claiming) only one wins. README.md beside this file draws it:
 *
 *   (new) ─queue─▶ queued ─claim─▶ running ─finish─▶ succeeded | failed
 *   (new) ─start─▶ running ─park─▶ waiting ─claim─▶ running        running ─claim (takeover)─▶ running
 *   (new) ─record (pure)─▶ succeeded | failed      queued | running | waiting ─cancel─▶ canceled
 */

export type { ExecutionStatus };

export const EXECUTION_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled'] as const satisfies readonly ExecutionStatus[];

/** `null`: the execution does not exist yet (a move from null creates its row). */
export type ExecutionOrigin = ExecutionStatus | null;

interface Move {
  readonly from: readonly ExecutionOrigin[];
  readonly to: readonly ExecutionStatus[];
}

/** Every legal move, by name. Nothing writes an execution's status except through one of these. */
export const EXECUTION_TRANSITIONS = {
  /** Queued for a worker (any process may run it). */
  queue: { from: [null], to: ['queued'] },
  /** The fast path: written as running, already held by the process that runs it. */
  start: { from: [null], to: ['running'] },
  /** A fast-path run of a pure flow, written once when it has finished. */
  record: { from: [null], to: ['succeeded', 'failed'] },
  /**
   * A worker takes it: queued and due, waiting and due (its timer ran out or it was resumed), or
   * running with a lapsed lease (a takeover: its worker died; `reclaims` counts these).
   */
  claim: { from: ['queued', 'waiting', 'running'], to: ['running'] },
  /** Parked at a wait node: no lease held until it is due again. */
  park: { from: ['running'], to: ['waiting'] },
  /** The holder of the lease wrote its result. */
  finish: { from: ['running'], to: ['succeeded', 'failed'] },
  /** Its lease lapsed once too often (EXECUTION_CRASHED_TOO_OFTEN): failed by the claimer, not taken. */
  abandon: { from: ['running'], to: ['failed'] },
  /** Canceled by a user before it finished. */
  cancel: { from: ['queued', 'running', 'waiting'], to: ['canceled'] },
} as const satisfies Record<string, Move>;

export type TransitionName = keyof typeof EXECUTION_TRANSITIONS;

/** Whether some move goes from `from` to `to`. */
export function canTransition(from: ExecutionOrigin, to: ExecutionStatus): boolean {
  return Object.values(EXECUTION_TRANSITIONS).some((m: Move) => m.from.includes(from) && m.to.includes(to));
}

/** The states no move leaves (succeeded, failed, canceled), read off the table. */
const TERMINAL: ReadonlySet<ExecutionStatus> = new Set(EXECUTION_STATUSES.filter((s) => !EXECUTION_STATUSES.some((to) => canTransition(s, to))));

/** Whether the execution has ended. */
export const isTerminal = (s: ExecutionStatus): boolean => TERMINAL.has(s);

export class IllegalTransitionError extends Error {
  constructor(
    readonly transition: TransitionName,
    readonly from: ExecutionOrigin,
    readonly to: ExecutionStatus,
  ) {
    super(`Illegal execution transition "${transition}": ${from ?? '(new)'} → ${to}.`);
    this.name = 'IllegalTransitionError';
  }
}

/**
 * Checks that move `name` may end in `to` (and, when known, start from `from`); throws
 * IllegalTransitionError otherwise. Returns `to`, so a write can take its status from here.
 */
export function checkTransition(name: TransitionName, to: ExecutionStatus, from?: ExecutionOrigin): ExecutionStatus {
  const m: Move = EXECUTION_TRANSITIONS[name];
  if (!m.to.includes(to) || (from !== undefined && !m.from.includes(from)))
    throw new IllegalTransitionError(name, from === undefined ? (m.from[0] ?? null) : from, to);
  return to;
}

/** The states move `name` starts from (the guard of its UPDATE); empty for moves that create the row. */
export const sourcesOf = (name: TransitionName): ExecutionStatus[] =>
  (EXECUTION_TRANSITIONS[name].from as readonly ExecutionOrigin[]).filter((s): s is ExecutionStatus => s !== null);

/** The states move `name` may end in. */
export const targetsOf = (name: TransitionName): readonly ExecutionStatus[] => EXECUTION_TRANSITIONS[name].to;
