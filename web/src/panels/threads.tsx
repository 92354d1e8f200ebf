/** Threads: taskstat as a table, stack use as bars, a warning for a thread near its stack limit. */
import { useEffect, useState } from 'preact/hooks';
import { connection } from '../connection.js';
import { os, type TaskStat } from '../lib.js';
import { nearStackLimit, STACK_WARNING, stackUse } from '../stack.js';
import { Message, Section, useAction, useConnected } from '../ui.js';

/** Zephyr's thread state bits (include/zephyr/kernel_structs.h, _THREAD_*). */
const STATE_BITS: [number, string][] = [
  [1 << 0, 'dummy'],
  [1 << 1, 'pending'],
  [1 << 2, 'prestart'],
  [1 << 3, 'dead'],
  [1 << 4, 'suspended'],
  [1 << 5, 'aborting'],
  [1 << 6, 'suspending'],
  [1 << 7, 'queued'],
];

function stateText(state: number): string {
  const names = STATE_BITS.filter(([bit]) => state & bit).map(([, n]) => n);
  return names.length ? names.join(', ') : 'ready';
}

export function ThreadsPanel({ active }: { active: boolean }) {
  const connected = useConnected();
  const [tasks, setTasks] = useState<[string, TaskStat][]>([]);
  const load = useAction();
  const refresh = () =>
    void load.run(async () => {
      const { tasks } = await connection.need().call(os.taskstat, {});
      setTasks(Object.entries(tasks).sort((a, b) => a[1].prio - b[1].prio));
    });
  useEffect(() => {
    if (connected && active) refresh();
  }, [connected, active]);

  const near = nearStackLimit(tasks);
  return (
    <Section title="Threads (taskstat)">
      <button type="button" id="threads-refresh" disabled={!connected || load.busy} onClick={refresh}>
        Refresh
      </button>
      <Message outcome={load.outcome} />
      {near.length ? (
        <p class="message warning" role="alert" id="stack-warning">
          Near the stack limit: {near.map(([n, use]) => `${n} (${Math.round(use * 100)} %)`).join(', ')}. Raise its stack size in the build, or it may overflow.
        </p>
      ) : null}
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Threads table">
        <table class="threads" id="threads">
          <thead>
            <tr>
              <th scope="col">Thread</th>
              <th scope="col">Priority</th>
              <th scope="col">State</th>
              <th scope="col">Stack use</th>
              <th scope="col">Context switches</th>
              <th scope="col">Run time</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map(([name, t]) => {
              const ratio = stackUse(t);
              return (
                <tr key={name} class={ratio !== undefined && ratio >= STACK_WARNING ? 'near-limit' : ''}>
                  <th scope="row">{name}</th>
                  <td>{t.prio}</td>
                  <td>{stateText(t.state)}</td>
                  <td>
                    {ratio !== undefined ? (
                      <>
                        <meter
                          min={0}
                          max={t.stksiz}
                          low={t.stksiz! * 0.7}
                          high={t.stksiz! * STACK_WARNING}
                          optimum={0}
                          value={t.stkuse}
                          aria-label={`Stack use of ${name}`}
                        />{' '}
                        {t.stkuse} / {t.stksiz} ({Math.round(ratio * 100)} %)
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{t.cswcnt ?? '—'}</td>
                  <td>{t.runtime ?? '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
