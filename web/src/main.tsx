/** The web device manager: a panel per task, the link's state always in view. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import '@xterm/xterm/css/xterm.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { connection } from './connection.js';
import { useStore } from './store.js';
import { ConnectPanel } from './panels/connect.js';
import { OverviewPanel } from './panels/overview.js';
import { ImagesPanel } from './panels/images.js';
import { LogPanel } from './panels/log.js';
import { ShellPanel } from './panels/shell.js';
import { FilesPanel } from './panels/files.js';
import { StatsPanel } from './panels/stats.js';
import { ThreadsPanel } from './panels/threads.js';
import { SettingsPanel } from './panels/settings.js';

const PANELS = [
  { id: 'connect', title: 'Connect', view: ConnectPanel },
  { id: 'overview', title: 'Overview', view: OverviewPanel },
  { id: 'images', title: 'Images', view: ImagesPanel },
  { id: 'log', title: 'Log', view: LogPanel },
  { id: 'shell', title: 'Shell', view: ShellPanel },
  { id: 'files', title: 'Files', view: FilesPanel },
  { id: 'stats', title: 'Statistics', view: StatsPanel },
  { id: 'threads', title: 'Threads', view: ThreadsPanel },
  { id: 'settings', title: 'Settings', view: SettingsPanel },
] as const;

function panelFromHash(): string {
  const id = location.hash.slice(1);
  return PANELS.some((p) => p.id === id) ? id : 'connect';
}

function LinkBar() {
  const state = useStore(connection.state);
  const notice = useStore(connection.notice);
  return (
    <div class={`link link-${state.phase}`} id="link-state" role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      <span id="link-message">{state.message}</span>
      {state.phase === 'needs-gesture' ? (
        <button type="button" id="pick-again" onClick={() => void connection.connect().catch(() => undefined)}>
          Choose the device again
        </button>
      ) : null}
      {notice ? <p class="notice" id="link-notice">{notice}</p> : null}
    </div>
  );
}

function App() {
  const [panel, setPanel] = useState(panelFromHash);
  useEffect(() => {
    const onHash = () => setPanel(panelFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const current = PANELS.find((p) => p.id === panel)!;
  return (
    <>
      <header class="top">
        <h1>
          <img src="./icon.svg" alt="" width="28" height="28" /> mcumgr-ts device manager
        </h1>
        <LinkBar />
      </header>
      <nav aria-label="Panels">
        <ul>
          {PANELS.map((p) => (
            <li key={p.id}>
              <a href={`#${p.id}`} id={`nav-${p.id}`} aria-current={p.id === panel ? 'page' : undefined}>
                {p.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="panel" aria-labelledby="panel-title">
        <h2 id="panel-title">{current.title}</h2>
        {/* Every panel stays mounted (an upload, the terminal, the charts go on in the background); one is shown. */}
        {PANELS.map(({ id, view: View }) => (
          <div key={id} id={`panel-${id}`} hidden={id !== panel}>
            <View active={id === panel} />
          </div>
        ))}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  void navigator.serviceWorker.register('./sw.js').catch(() => undefined);
}
