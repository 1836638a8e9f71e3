import { describe, expect, it } from 'vitest';
import { type StatsDelta, applyDelta } from './Dashboard';

const bucket = (t: string, succeeded = 0, failed = 0) => ({ t, succeeded, failed, canceled: 0, running: 0, queued: 0, waiting: 0 });
const stats = () => ({
  intervalSeconds: 60,
  requests: [],
  tokens: [],
  executions: [bucket('2026-12-07T10:00:00.000Z', 1), bucket('2026-12-07T10:01:00.000Z')],
  totals: { requests: 0, errors: 0, errorRate: 0, executions: 1, tokens: 0 },
});
const delta = (to: string, succeeded: number, failed: number): StatsDelta => ({
  executions: { succeeded, failed },
  records: { created: 0, updated: 0, deleted: 0 },
  from: to,
  to,
});

describe('dashboard stats from the stats channel', () => {
  it('adds a delta to its bucket and the total', () => {
    const s = applyDelta(stats(), delta('2026-12-07T10:01:30.000Z', 2, 1));
    expect(s.executions[1]).toMatchObject({ succeeded: 2, failed: 1 });
    expect(s.totals.executions).toBe(4);
  });
  it('opens a new bucket when time has moved past the last one', () => {
    const s = applyDelta(stats(), delta('2026-12-07T10:03:10.000Z', 1, 0));
    expect(s.executions.map((b) => [b.t, b.succeeded])).toEqual([
      ['2026-12-07T10:00:00.000Z', 1],
      ['2026-12-07T10:01:00.000Z', 0],
      ['2026-12-07T10:03:00.000Z', 1],
    ]);
  });
  it('changes nothing for a delta without executions', () => {
    const s = stats();
    expect(applyDelta(s, delta('2026-12-07T10:01:30.000Z', 0, 0))).toBe(s);
  });
});
