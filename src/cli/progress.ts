/** A small progress bar on stderr, drawn only when stderr is a terminal. */

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

export class ProgressBar {
  private readonly start = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private startDone: number | undefined;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    readonly enabled: boolean = Boolean(process.stderr.isTTY),
  ) {}

  update(done: number, total: number, force = false): void {
    if (!this.enabled) return;
    if (this.startDone === undefined) this.startDone = done;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    const elapsed = (now - this.start) / 1000;
    const rate = elapsed > 0 ? (done - this.startDone) / elapsed : 0;
    const pct = total > 0 ? (done / total) * 100 : 100;
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - 70));
    const filled = Math.round((pct / 100) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const eta = rate > 0 ? (total - done) / rate : NaN;
    const line = `${this.label} [${bar}] ${formatBytes(done)} / ${formatBytes(total)} ${pct.toFixed(2).padStart(6)}% ${formatBytes(Math.round(rate))}/s ${formatEta(eta)}`;
    this.stream.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  finish(): void {
    if (this.enabled && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
