/** Log: every SMP frame sent and received, decoded and in hex, to copy into a bug report. */
import { FRAME_LOG_LIMIT, frames, framesAsText, framesPaused } from '../frames.js';
import { toHex } from '../lib.js';
import { useStore } from '../store.js';
import { Section, saveFile } from '../ui.js';

/** The newest frames shown; the text export holds all that are kept. */
const SHOWN = 300;

export function LogPanel({ active }: { active: boolean }) {
  const list = useStore(frames);
  const paused = useStore(framesPaused);
  const shown = active ? list.slice(-SHOWN).reverse() : [];
  return (
    <Section title="SMP frames">
      <p>
        {list.length} frame(s) kept (the newest {FRAME_LOG_LIMIT}); newest first, {Math.min(SHOWN, list.length)} shown.
      </p>
      <div class="buttons">
        <button type="button" id="log-pause" aria-pressed={paused} onClick={() => framesPaused.set(!paused)}>
          {paused ? 'Resume logging' : 'Pause logging'}
        </button>
        <button type="button" id="log-clear" onClick={() => frames.set([])}>
          Clear
        </button>
        <button type="button" id="log-copy" disabled={!list.length} onClick={() => void navigator.clipboard?.writeText(framesAsText(list))}>
          Copy as text
        </button>
        <button type="button" id="log-save" disabled={!list.length} onClick={() => saveFile('smp-frames.txt', framesAsText(list), 'text/plain')}>
          Save as text
        </button>
      </div>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="SMP frames table">
        <table class="frames" id="frames">
          <caption class="visually-hidden">SMP frames, newest first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Dir</th>
              <th scope="col">Seq</th>
              <th scope="col">Frame</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((f) => (
              <tr key={f.index} class={f.direction}>
                <td>{f.index}</td>
                <td>{new Date(f.time).toLocaleTimeString()}</td>
                <td aria-label={f.direction === 'tx' ? 'sent' : 'received'}>{f.direction === 'tx' ? '→' : '←'}</td>
                <td>{f.seq ?? '?'}</td>
                <td>
                  <div class="frame-summary">{f.summary}</div>
                  <code class="frame-fields">{f.fields}</code>
                  <code class="frame-hex">{toHex(f.bytes)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
