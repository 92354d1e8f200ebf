/** Small shared pieces of the panels: actions with their outcome, messages, formatted sizes. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { connection } from './connection.js';
import { explain } from './errors.js';
import { useStore } from './store.js';

export interface Outcome {
  text: string;
  error?: boolean;
  advice?: string;
}

/** Runs one action of a panel at a time; its outcome (success text or explained error) is kept for display. */
export function useAction(): {
  busy: boolean;
  outcome: Outcome | undefined;
  say(text: string): void;
  run(action: () => Promise<string | void>): Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const say = useCallback((text: string) => setOutcome({ text }), []);
  const run = useCallback(async (action: () => Promise<string | void>) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const done = await action();
      if (done) setOutcome({ text: done });
    } catch (err) {
      const { message, advice } = explain(err);
      setOutcome({ text: message, error: true, ...(advice ? { advice } : {}) });
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, outcome, say, run };
}

export function Message({ outcome, id }: { outcome: Outcome | undefined; id?: string }) {
  if (!outcome) return <p class="message" id={id} role="status" aria-live="polite" />;
  return (
    <p class={outcome.error ? 'message error' : 'message'} id={id} role={outcome.error ? 'alert' : 'status'} aria-live="polite">
      {outcome.error ? <strong>Error: </strong> : null}
      {outcome.text}
      {outcome.advice ? <span class="advice"> {outcome.advice}</span> : null}
    </p>
  );
}

/** True while the device is connected (panels disable their device actions otherwise). */
export function useConnected(): boolean {
  return useStore(connection.state).phase === 'connected';
}

/**
 * Calls `load` when the panel opens connected, every time the link comes back, and when the device answers again
 * after a reset (a link that stayed up through it, as a UART's does, does not come back).
 */
export function useOnConnect(load: () => void): void {
  const connected = useConnected();
  const restarts = useStore(connection.restarts);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    if (connected) loadRef.current();
  }, [connected, restarts]);
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = `${id ?? title.toLowerCase().replace(/\W+/g, '-')}-heading`;
  return (
    <section class="card" aria-labelledby={headingId} id={id}>
      <h3 id={headingId}>{title}</h3>
      {children}
    </section>
  );
}

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function durationText(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Offers `bytes` as a download named `name`. */
export function saveFile(name: string, bytes: Uint8Array | string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
