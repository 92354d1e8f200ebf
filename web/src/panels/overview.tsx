/** Overview: OS and app info, bootloader and mode, SMP buffers, clock, uptime, groups, echo round trip. */
import { useRef, useState } from 'preact/hooks';
import { connection } from '../connection.js';
import { errorText } from '../errors.js';
import { enumeration, GROUP_NAMES, os, shell, type SmpClient } from '../lib.js';
import { Message, Section, useAction, useConnected, useOnConnect } from '../ui.js';

/** MCUboot's modes as Zephyr's os_mgmt reports them (bootutil's MCUBOOT_MODE_* in mcuboot_config). */
const BOOT_MODES: Record<number, string> = {
  [-1]: 'unknown',
  0: 'single application',
  1: 'swap using scratch',
  2: 'overwrite only',
  3: 'swap without scratch',
  4: 'DirectXIP',
  5: 'DirectXIP with revert',
  6: 'RAM load',
  7: 'firmware loader',
  8: 'RAM load with network core',
  9: 'swap using move',
};

type Row = { label: string; id: string; value: string; error?: boolean };

async function item(id: string, label: string, read: () => Promise<string>): Promise<Row> {
  try {
    return { id, label, value: await read() };
  } catch (err) {
    return { id, label, value: errorText(err), error: true };
  }
}

/**
 * One request at a time: after a reset or a reconnect other panels read too, and a burst beyond the device's SMP
 * buffers (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT) would be dropped.
 */
async function readOverview(c: SmpClient): Promise<Row[]> {
  const rows: Row[] = [];
  for (const read of [
    () => item('os-info', 'OS and app', async () => (await c.call(os.info, { format: 'a' })).output),
    () =>
      item('bootloader', 'Bootloader', async () => {
        const name = (await c.call(os.bootloaderInfo, {})).bootloader ?? 'unknown';
        if (name !== 'MCUboot') return name;
        const mode = await c.call(os.bootloaderInfo, { query: 'mode' });
        const m = mode.mode ?? -1;
        return `MCUboot, ${BOOT_MODES[m] ?? `mode ${m}`}${mode['no-downgrade'] ? ', refuses downgrades' : ''}`;
      }),
    () =>
      item('buffers', 'SMP buffers', async () => {
        const p = await c.call(os.mcumgrParams, {});
        return `${p.buf_count} × ${p.buf_size} bytes`;
      }),
    () => item('datetime', 'Device clock', async () => (await c.call(os.datetimeGet, {})).datetime),
    () => item('uptime', 'Uptime', async () => (await c.call(shell.exec, { argv: ['kernel', 'uptime'] })).o.trim()),
    () =>
      item('groups', 'Groups', async () => {
        try {
          const { groups } = await c.call(enumeration.details, {});
          return groups
            .map((g) => `${g.name ?? GROUP_NAMES[g.group] ?? 'group'} (${g.group}${g.handlers ? `, ${g.handlers} command${g.handlers === 1 ? '' : 's'}` : ''})`)
            .join(', ');
        } catch {
          const { groups } = await c.call(enumeration.list, {});
          return groups.map((g) => `${GROUP_NAMES[g] ?? 'group'} (${g})`).join(', ');
        }
      }),
  ]) {
    rows.push(await read());
  }
  return rows;
}

/** This computer's time as the device expects it: local time with its UTC offset. */
function localDateTime(now = new Date()): string {
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const offset = -now.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}` +
    `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`
  );
}

export function OverviewPanel(_: { active: boolean }) {
  const connected = useConnected();
  const [rows, setRows] = useState<Row[]>([]);
  const [echoText, setEchoText] = useState('hello');
  const load = useAction();
  const clock = useAction();
  const echo = useAction();
  // Only the latest read is shown: one started before a reset must not overwrite one after it.
  const reads = useRef(0);
  const refresh = () =>
    void load.run(async () => {
      const read = ++reads.current;
      const found = await readOverview(connection.need());
      if (read === reads.current) setRows(found);
    });
  useOnConnect(refresh);

  return (
    <div class="grid">
      <Section title="Device">
        <dl class="facts" id="overview-facts">
          {rows.map((r) => (
            <div key={r.id} class={r.error ? 'fact error' : 'fact'}>
              <dt>{r.label}</dt>
              <dd id={`fact-${r.id}`}>{r.value}</dd>
            </div>
          ))}
        </dl>
        <button type="button" id="overview-refresh" disabled={!connected || load.busy} onClick={refresh}>
          Refresh
        </button>
        <Message outcome={load.outcome} />
      </Section>
      <Section title="Clock">
        <p>Set the device clock from this computer ({localDateTime()}).</p>
        <button
          type="button"
          id="datetime-set"
          disabled={!connected || clock.busy}
          onClick={() =>
            void clock.run(async () => {
              const c = connection.need();
              const sent = localDateTime();
              await c.call(os.datetimeSet, { datetime: sent });
              const { datetime } = await c.call(os.datetimeGet, {});
              setRows((list) => list.map((r) => (r.id === 'datetime' ? { ...r, value: datetime, error: false } : r)));
              return `Clock set to ${sent}; the device now reads ${datetime}.`;
            })
          }
        >
          Set from this computer
        </button>
        <Message outcome={clock.outcome} id="datetime-message" />
      </Section>
      <Section title="Echo">
        <label for="echo-text">Text</label>
        <input id="echo-text" type="text" value={echoText} onInput={(e) => setEchoText(e.currentTarget.value)} />
        <button
          type="button"
          id="echo-send"
          disabled={!connected || echo.busy}
          onClick={() =>
            void echo.run(async () => {
              const started = performance.now();
              const { r } = await connection.need().call(os.echo, { d: echoText });
              const ms = performance.now() - started;
              if (r !== echoText) throw new Error(`The device echoed "${r}" instead of "${echoText}".`);
              return `Echoed "${r}" in ${ms.toFixed(1)} ms.`;
            })
          }
        >
          Send
        </button>
        <Message outcome={echo.outcome} id="echo-message" />
      </Section>
    </div>
  );
}
