/** Connect: Web Serial (baud, framing) or Web Bluetooth (name filter, ATT MTU), the last device, browser support. */
import { connection, type LinkSettings } from '../connection.js';
import { useStore } from '../store.js';
import { Message, Section, useAction } from '../ui.js';

const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000];

export const HAS_WEB_SERIAL = typeof navigator !== 'undefined' && 'serial' in navigator;
export const HAS_WEB_BLUETOOTH = typeof navigator !== 'undefined' && 'bluetooth' in navigator;

function BrowserSupport({ kind }: { kind: LinkSettings['kind'] }) {
  if (kind === 'serial' && !HAS_WEB_SERIAL) {
    return (
      <p class="message error" role="alert" id="no-api">
        This browser has no Web Serial. It is in Chrome, Edge and Opera on desktops (Windows, macOS, Linux, ChromeOS), on https or localhost; not in Firefox,
        Safari, or any browser on iOS.
      </p>
    );
  }
  if (kind === 'bluetooth' && !HAS_WEB_BLUETOOTH) {
    return (
      <p class="message error" role="alert" id="no-api">
        This browser has no Web Bluetooth. It is in Chrome and Edge on desktops and in Chrome on Android, on https or localhost; not in Firefox, Safari, or any
        browser on iOS. On Linux, Chrome may need it enabled in chrome://flags.
      </p>
    );
  }
  return null;
}

/** A labelled number input whose value is kept within [min, max]; an empty or invalid entry gives `fallback`. */
function NumberField(props: {
  id: string;
  label: string;
  min: number;
  max: number;
  value: number;
  fallback: number;
  onValue: (value: number) => void;
  disabled?: boolean;
  describedBy?: string;
}) {
  const { id, label, min, max, value, fallback, onValue, disabled, describedBy } = props;
  return (
    <>
      <label for={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        value={value}
        disabled={disabled}
        aria-describedby={describedBy}
        onChange={(e) => onValue(Math.min(max, Math.max(min, Number(e.currentTarget.value) || fallback)))}
      />
    </>
  );
}

export function ConnectPanel(_: { active: boolean }) {
  const settings = useStore(connection.settings);
  const state = useStore(connection.state);
  const last = useStore(connection.lastDevice);
  const { busy, outcome, run } = useAction();
  const set = (change: Partial<LinkSettings>) => connection.saveSettings(change);
  const linked = state.phase === 'connected' || state.phase === 'reconnecting';
  const apiMissing = settings.kind === 'serial' ? !HAS_WEB_SERIAL : !HAS_WEB_BLUETOOTH;

  return (
    <div class="grid">
      <Section title="Link">
        <fieldset>
          <legend>Connect over</legend>
          <label>
            <input type="radio" name="kind" value="serial" checked={settings.kind === 'serial'} onChange={() => set({ kind: 'serial' })} disabled={linked} />{' '}
            Web Serial (USB or UART)
          </label>
          <label>
            <input
              type="radio"
              name="kind"
              value="bluetooth"
              checked={settings.kind === 'bluetooth'}
              onChange={() => set({ kind: 'bluetooth' })}
              disabled={linked}
            />{' '}
            Web Bluetooth
          </label>
        </fieldset>
        {settings.kind === 'serial' ? (
          <div class="fields">
            <label for="baud">Baud rate</label>
            <select id="baud" value={String(settings.baud)} onChange={(e) => set({ baud: Number(e.currentTarget.value) })} disabled={linked}>
              {BAUD_RATES.map((b) => (
                <option key={b} value={String(b)}>
                  {b}
                </option>
              ))}
            </select>
            <label for="framing">Framing</label>
            <select
              id="framing"
              value={settings.framing}
              onChange={(e) => set({ framing: e.currentTarget.value as LinkSettings['framing'] })}
              disabled={linked}
            >
              <option value="console">console (base64 lines, Zephyr's default)</option>
              <option value="raw">raw SMP packets (CONFIG_UART_MCUMGR_RAW_PROTOCOL)</option>
            </select>
          </div>
        ) : (
          <div class="fields">
            <label for="name-prefix">Device name starts with</label>
            <input
              id="name-prefix"
              type="text"
              value={settings.namePrefix}
              placeholder="(any device with the SMP service)"
              onInput={(e) => set({ namePrefix: e.currentTarget.value })}
              disabled={linked}
            />
            <NumberField
              id="att-mtu"
              label="ATT MTU"
              min={23}
              max={517}
              value={settings.attMtu}
              fallback={247}
              onValue={(attMtu) => set({ attMtu })}
              disabled={linked}
              describedBy="att-mtu-help"
            />
            <p id="att-mtu-help" class="help">
              Browsers do not tell the page the MTU they negotiated. 247 suits Zephyr's smp_svr; on write errors the app lowers it to 23 by itself.
            </p>
            <label>
              <input type="checkbox" checked={settings.reassembly} onChange={(e) => set({ reassembly: e.currentTarget.checked })} disabled={linked} /> The
              device reassembles long requests (CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY)
            </label>
          </div>
        )}
        <div class="fields">
          <NumberField
            id="timeout"
            label="Answer timeout (s)"
            min={1}
            max={120}
            value={settings.timeoutMs / 1000}
            fallback={5}
            onValue={(seconds) => set({ timeoutMs: seconds * 1000 })}
            disabled={linked}
          />
          <NumberField
            id="reconnect-seconds"
            label="Wait for a lost device (s)"
            min={1}
            max={600}
            value={settings.reconnectSeconds}
            fallback={30}
            onValue={(reconnectSeconds) => set({ reconnectSeconds })}
          />
        </div>
        <BrowserSupport kind={settings.kind} />
        <div class="buttons">
          <button type="button" id="connect" class="primary" disabled={busy || linked || apiMissing} onClick={() => void run(() => connection.connect())}>
            Connect …
          </button>
          <button type="button" id="disconnect" disabled={busy || state.phase === 'disconnected'} onClick={() => void run(() => connection.disconnect())}>
            Disconnect
          </button>
        </div>
        <Message outcome={outcome} id="connect-message" />
      </Section>
      <Section title="Last device">
        {last ? (
          <>
            <p id="last-device">
              {last.name} over {last.kind === 'serial' ? 'Web Serial' : 'Web Bluetooth'}
            </p>
            <button type="button" id="reconnect-last" disabled={busy || linked} onClick={() => void run(() => connection.reconnectLast())}>
              Reconnect without asking
            </button>
          </>
        ) : (
          <p>No device yet. The app remembers the last one, and reconnects to it by itself after a reset.</p>
        )}
      </Section>
    </div>
  );
}
