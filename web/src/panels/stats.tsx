/** Statistics: every group's counters, read once a second, as charts over time; pause and CSV export. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Chart } from '../chart.js';
import { connection } from '../connection.js';
import { errorText } from '../errors.js';
import { stat } from '../lib.js';
import { Message, Section, saveFile, useAction, useConnected } from '../ui.js';

/** Samples kept per group (ten minutes at one a second). */
const KEEP = 600;
const INTERVAL_MS = 1000;

interface Series {
  fields: string[];
  /** [times, ...one row per field] */
  data: number[][];
}

/** One row per reading: seconds since the panel started reading, group, counter, value. */
export function toCsv(history: Record<string, Series>): string {
  const rows = ['time_s,group,counter,value'];
  for (const [group, s] of Object.entries(history)) {
    s.data[0]!.forEach((t, i) => {
      s.fields.forEach((f, j) => rows.push(`${t.toFixed(3)},${group},${f},${s.data[j + 1]![i]}`));
    });
  }
  return `${rows.join('\n')}\n`;
}

export function StatsPanel({ active }: { active: boolean }) {
  const connected = useConnected();
  const [groups, setGroups] = useState<string[]>([]);
  const [history, setHistory] = useState<Record<string, Series>>({});
  const [paused, setPaused] = useState(false);
  const [pollError, setPollError] = useState<string | undefined>();
  const started = useRef(Date.now());
  const list = useAction();

  useEffect(() => {
    if (!connected || !active) return;
    void list.run(async () => {
      const { stat_list } = await connection.need().call(stat.list, {});
      setGroups(stat_list);
      if (!stat_list.length) return 'The device has no statistics groups.';
    });
  }, [connected, active]);

  useEffect(() => {
    if (!connected || !active || paused || !groups.length) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const c = connection.need();
        const now = Date.now();
        const results = await Promise.all(groups.map((name) => c.call(stat.read, { name })));
        if (stopped) return;
        setPollError(undefined);
        setHistory((old) => {
          const next = { ...old };
          for (const r of results) {
            const fields = Object.keys(r.fields).sort();
            const prev = next[r.name];
            const same = prev && prev.fields.join() === fields.join();
            const base = same ? prev.data : [[], ...fields.map(() => [])];
            const t = (now - started.current) / 1000;
            next[r.name] = {
              fields,
              data: base.map((row, i) => [...row.slice(-(KEEP - 1)), i === 0 ? t : r.fields[fields[i - 1]!]!]),
            };
          }
          return next;
        });
      } catch (err) {
        if (!stopped) setPollError(errorText(err));
      }
      if (!stopped) timer = setTimeout(poll, INTERVAL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [connected, active, paused, groups]);

  return (
    <div>
      <div class="buttons">
        <button type="button" id="stats-pause" aria-pressed={paused} onClick={() => setPaused(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" id="stats-csv" disabled={!Object.keys(history).length} onClick={() => saveFile('statistics.csv', toCsv(history), 'text/csv')}>
          Export CSV
        </button>
      </div>
      <Message outcome={list.outcome} />
      {pollError ? (
        <p class="message error" role="alert" id="stats-error">
          <strong>Error: </strong>
          {pollError}
        </p>
      ) : null}
      <div class="grid">
        {groups.map((g) => {
          const s = history[g];
          return (
            <Section key={g} title={g} id={`stat-${g}`}>
              {s ? <Chart id={`chart-${g}`} label={`Counters of ${g} over time`} series={s.fields} data={s.data} height={170} /> : <p>Reading …</p>}
            </Section>
          );
        })}
      </div>
    </div>
  );
}
