/** A one-line progress bar on stderr, redrawn at most 10 times a second; silent when stderr is not a TTY. */
import { bytes, int, rate } from './human.js';

export interface ProgressState {
  bytesRead: number;
  records: number;
  events: number;
  malformed: number;
  elapsedMs: number;
}

export class Progress {
  private last = 0;
  private shown = false;

  constructor(
    private readonly label: string,
    private readonly totalBytes: number | undefined,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly enabled: boolean = out.isTTY === true,
  ) {}

  update(s: ProgressState, force = false): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const perSec = s.elapsedMs > 0 ? (s.records * 1000) / s.elapsedMs : 0;
    let bar = '';
    if (this.totalBytes) {
      const f = Math.min(1, s.bytesRead / this.totalBytes);
      const width = 24;
      const full = Math.round(f * width);
      bar = `${String(Math.floor(f * 100)).padStart(3)}% ${'█'.repeat(full)}${'░'.repeat(width - full)} ${bytes(s.bytesRead)}/${bytes(this.totalBytes)}  `;
    }
    const bad = s.malformed > 0 ? `  ${int(s.malformed)} malformed` : '';
    const line = `${this.label} ${bar}${int(s.events)} events  ${rate(perSec)} lines/s${bad}`;
    const cols = this.out.columns ?? 120;
    this.out.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
    this.shown = true;
  }

  done(): void {
    if (this.enabled && this.shown) this.out.write('\r\x1b[2K');
  }
}
