/** The Threads panel's near-limit warning (the virtual device's threads all stay well below it). */
import { describe, expect, it } from 'vitest';
import { nearStackLimit, STACK_WARNING, stackUse } from '../../web/src/stack.js';

const thread = (stkuse: number | undefined, stksiz: number | undefined) => ({ prio: 0, tid: 1, state: 0, stkuse, stksiz });

describe('stack use', () => {
  it('flags the threads at or above the warning level, with their use', () => {
    const tasks: [string, ReturnType<typeof thread>][] = [
      ['main', thread(1000, 1024)],
      ['idle', thread(16, 80)],
      ['edge', thread(STACK_WARNING * 200, 200)],
      ['no info', thread(undefined, undefined)],
      ['zero size', thread(10, 0)],
    ];
    expect(nearStackLimit(tasks)).toEqual([
      ['main', 1000 / 1024],
      ['edge', STACK_WARNING],
    ]);
    expect(stackUse(thread(undefined, 64))).toBeUndefined();
  });
});
