/** The web device manager: a panel per task, the link's state always in view. */
import { render, type FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { connection } from './connection.js';
import { errorText } from './errors.js';
import { useStore } from './store.js';
import { ConnectPanel } from './panels/connect.js';
import { OverviewPanel } from './panels/overview.js';
import { ImagesPanel } from './panels/images.js';
import { LogPanel } from './panels/log.js';
import { FilesPanel } from './panels/files.js';
import { StatsPanel } from './panels/stats.js';
import { ThreadsPanel } from './panels/threads.js';
import { SettingsPanel } from './panels/settings.js';

type PanelView = FunctionComponent<{ active: boolean }>;

/** A panel whose code is loaded when it is first shown, so that the app's first load stays small. */
function lazyPanel(load: () => Promise<{ default: PanelView }>): PanelView {
  return function LazyPanel({ active }) {
    const [View, setView] = useState<PanelView | undefined>();
    const [failed, setFailed] = useState<string | undefined>();
    useEffect(() => {
      if (View || !active) return;
      load().then(
        (module) => setView(() => module.default),
        (err: unknown) => setFailed(errorText(err)),
      );
    }, [active]);
    if (View) return <View active={active} />;
    if (failed)
      return (
        <p class="message error" role="alert">
          This panel could not be loaded ({failed}). Reload the page when the network is back.
        </p>
      );
    return active ? (
      <p class="message" role="status">
        Loading …
      </p>
    ) : null;
  };
}

const PANELS: { id: string; title: string; view: PanelView }[] = [
  { id: 'connect', title: 'Connect', view: ConnectPanel },
  { id: 'overview', title: 'Overview', view: OverviewPanel },
  { id: 'images', title: 'Images', view: ImagesPanel },
  { id: 'log', title: 'Log', view: LogPanel },
  // xterm.js is most of the app's code: it comes when the Shell is first opened.
  { id: 'shell', title: 'Shell', view: lazyPanel(() => import('./panels/shell.js')) },
  { id: 'files', title: 'Files', view: FilesPanel },
  { id: 'stats', title: 'Statistics', view: StatsPanel },
  { id: 'threads', title: 'Threads', view: ThreadsPanel },
  { id: 'settings', title: 'Settings', view: SettingsPanel },
];

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
      {notice ? (
        <p class="notice" id="link-notice">
          {notice}
        </p>
      ) : null}
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
