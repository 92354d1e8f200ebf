/** Settings: read, write and delete keys of the device's settings subsystem; save them to storage. */
import { useState } from 'preact/hooks';
import { connection } from '../connection.js';
import { settings, toHex } from '../lib.js';
import { Message, Section, useAction, useConnected } from '../ui.js';

function parseHex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '').replace(/^0x/i, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`"${text}" is not hex bytes (pairs of 0-9, a-f).`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function printable(bytes: Uint8Array): string | undefined {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return /^[\x20-\x7e\u00a0-\uffff]*$/.test(text) && !text.includes('\ufffd') ? text : undefined;
}

export function SettingsPanel(_: { active: boolean }) {
  const connected = useConnected();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [asHex, setAsHex] = useState(false);
  const [read, setRead] = useState<Uint8Array | undefined>();
  const act = useAction();
  const need = () => {
    if (!name.trim()) throw new Error('Give the key name, e.g. app/greeting.');
    return connection.need();
  };
  const text = read ? printable(read) : undefined;

  return (
    <Section title="Settings">
      <label for="setting-name">Key</label>
      <input id="setting-name" type="text" value={name} placeholder="app/greeting" onInput={(e) => setName(e.currentTarget.value)} />
      <label for="setting-value">Value</label>
      <input id="setting-value" type="text" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <label>
        <input type="checkbox" id="setting-hex" checked={asHex} onChange={(e) => setAsHex(e.currentTarget.checked)} /> The value is hex bytes
      </label>
      <div class="buttons">
        <button
          type="button"
          id="setting-read"
          disabled={!connected || act.busy}
          onClick={() =>
            void act.run(async () => {
              const { val } = await need().call(settings.read, { name });
              setRead(val);
              return `${name}: ${val.length} byte(s).`;
            })
          }
        >
          Read
        </button>
        <button
          type="button"
          id="setting-write"
          disabled={!connected || act.busy}
          onClick={() =>
            void act.run(async () => {
              const val = asHex ? parseHex(value) : new TextEncoder().encode(value);
              await need().call(settings.write, { name, val });
              await connection.need().call(settings.save, {});
              return `${name} written (${val.length} byte(s)) and saved.`;
            })
          }
        >
          Write
        </button>
        <button
          type="button"
          id="setting-delete"
          disabled={!connected || act.busy}
          onClick={() =>
            void act.run(async () => {
              await need().call(settings.remove, { name });
              setRead(undefined);
              return `${name} deleted.`;
            })
          }
        >
          Delete
        </button>
      </div>
      <Message outcome={act.outcome} id="settings-message" />
      {read ? (
        <dl class="facts" id="setting-value-read">
          <div class="fact">
            <dt>Hex</dt>
            <dd class="hash">{toHex(read) || '(empty)'}</dd>
          </div>
          <div class="fact">
            <dt>Text</dt>
            <dd id="setting-text">{text ?? '(not text)'}</dd>
          </div>
        </dl>
      ) : null}
    </Section>
  );
}
