import { describe, expect, it } from 'vitest';
import { type Service, ServiceList } from './services.js';

/** Services that write what happens to them into one journal. */
function journaled(names: string[], fail: { start?: string; stop?: string } = {}) {
  const journal: string[] = [];
  const services: Service[] = names.map((name) => ({
    name,
    start: async () => {
      await Promise.resolve();
      if (fail.start === name) throw new Error(`${name} cannot start`);
      journal.push(`start ${name}`);
    },
    stop: () => {
      journal.push(`stop ${name}`);
      if (fail.stop === name) throw new Error(`${name} cannot stop`);
    },
  }));
  return { journal, services };
}

describe('ServiceList', () => {
  it('starts in list order, each awaited before the next, and stops in reverse', async () => {
    const { journal, services } = journaled(['db listener', 'runner', 'triggers', 'http']);
    const list = new ServiceList(services);
    expect(list.names).toEqual(['db listener', 'runner', 'triggers', 'http']);
    expect(journal).toEqual([]);
    await list.start();
    expect(journal).toEqual(['start db listener', 'start runner', 'start triggers', 'start http']);
    await list.stop();
    expect(journal.slice(4)).toEqual(['stop http', 'stop triggers', 'stop runner', 'stop db listener']);
  });

  it('stops the whole list (in reverse) when one service fails to start, and throws that error', async () => {
    const { journal, services } = journaled(['a', 'b', 'c'], { start: 'b' });
    await expect(new ServiceList(services).start()).rejects.toThrow('b cannot start');
    expect(journal).toEqual(['start a', 'stop c', 'stop b', 'stop a']);
  });

  it('keeps stopping the others when one fails to stop, and reports it', async () => {
    const { journal, services } = journaled(['a', 'b', 'c'], { stop: 'b' });
    const failed: string[] = [];
    const list = new ServiceList(services, (err, name) => failed.push(`${name}: ${(err as Error).message}`));
    await list.start();
    await list.stop();
    expect(journal.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    expect(failed).toEqual(['b: b cannot stop']);
  });

  it('stops once however often it is asked (concurrent callers share the shutdown), and cannot start again', async () => {
    const { journal, services } = journaled(['a', 'b']);
    const list = new ServiceList(services);
    await list.start();
    await Promise.all([list.stop(), list.stop()]);
    await list.stop();
    expect(journal).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    await expect(list.start()).rejects.toThrow(/stopped/);
  });

  it('stops a list that was never started (a built app that only served tests or a tool)', async () => {
    const { journal, services } = journaled(['a', 'b']);
    await new ServiceList(services).stop();
    expect(journal).toEqual(['stop b', 'stop a']);
  });
});
