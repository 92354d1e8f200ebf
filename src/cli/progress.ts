/**
 * Progress of a transfer, in the form its reader needs: a bar on a terminal, a line every few seconds in a log,
 * one JSON object per line for scripts (`--jsonl`), nothing with `--json`.
 */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(2)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function formatEta(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--m--s';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h > 0 ? `${h}h` : ''}${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s`;
}

export type ProgressMode = 'bar' | 'lines' | 'jsonl' | 'off';

/** How often a progress line is written without a terminal (ms); `MCUMGR_PROGRESS_INTERVAL_MS` overrides it. */
const DEFAULT_INTERVAL_MS = { bar: 100, lines: 5000, jsonl: 500, off: 0 } as const;

function intervalMs(mode: ProgressMode): number {
  const env = Number(process.env.MCUMGR_PROGRESS_INTERVAL_MS);
  return process.env.MCUMGR_PROGRESS_INTERVAL_MS !== undefined && Number.isFinite(env) && env >= 0 ? env : DEFAULT_INTERVAL_MS[mode];
}

interface Writable {
  write(text: string): unknown;
  columns?: number;
}

export class ProgressBar {
  private readonly start = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private startDone: number | undefined;
  private lastDone = -1;
  private readonly interval: number;

  /** `stream`: stderr for the bar and the lines, stdout for JSON lines. */
  constructor(
    private readonly label: string,
    private readonly mode: ProgressMode,
    private readonly stream: Writable,
    private readonly jsonl: (event: Record<string, unknown>) => void = () => undefined,
  ) {
    this.interval = intervalMs(mode);
    // A log gets its first line after one interval: a short transfer leaves no trace there.
    if (mode === 'lines') this.lastDraw = this.start;
  }

  /** True when a bar is drawn: per-chunk lines would only scroll it away. */
  get enabled(): boolean {
    return this.mode === 'bar';
  }

  update(done: number, total: number): void {
    if (this.mode === 'off') return;
    if (this.startDone === undefined) this.startDone = done;
    const now = Date.now();
    // The last figures always go to a bar or a script; to a log only when it had earlier ones.
    const last = done >= total && (this.mode !== 'lines' || this.lastDone >= 0);
    if (done === this.lastDone || (!last && now - this.lastDraw < this.interval)) return;
    this.lastDraw = now;
    this.lastDone = done;
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? (done - this.startDone) / elapsed : 0;
    const eta = rate > 0 ? (total - done) / rate : NaN;
    const pct = total > 0 ? (done / total) * 100 : 100;
    if (this.mode === 'jsonl') {
      this.jsonl({
        event: 'progress',
        operation: this.label,
        done,
        total,
        rate: Math.round(rate),
        eta: Number.isFinite(eta) ? Math.round(eta * 10) / 10 : null,
      });
      return;
    }
    const figures = `${formatBytes(done)} / ${formatBytes(total)} ${pct.toFixed(2).padStart(6)}% ${formatBytes(Math.round(rate))}/s ${formatEta(eta)}`;
    if (this.mode === 'lines') {
      this.stream.write(`${this.label}: ${figures}\n`);
      return;
    }
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - 70));
    const filled = Math.round((pct / 100) * width);
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${figures}\x1b[K`);
    this.drawn = true;
  }

  /** A chunk sent again from `offset` (its answer did not come, or the device missed data there). */
  retry(offset: number, reason: 'timeout' | 'missing'): void {
    if (this.mode === 'jsonl') this.jsonl({ event: 'retry', operation: this.label, offset, reason });
  }

  /** The device already had `offset` bytes of this transfer. */
  resumed(offset: number): void {
    if (this.mode === 'jsonl') this.jsonl({ event: 'resume', operation: this.label, offset });
  }

  /** The link was lost and is being reopened. */
  reconnect(reason: string): void {
    if (this.mode === 'jsonl') this.jsonl({ event: 'reconnect', operation: this.label, reason });
  }

  finish(): void {
    if (this.mode === 'bar' && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
