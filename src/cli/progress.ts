/**
 * A one-line progress bar on stderr: redrawn in place on a terminal (at most 10 times a second),
 * one line per 10% otherwise (CI logs, pipes).
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** Items per second and ETA: off for a few long steps (index builds), where a rate means nothing. */
    private readonly showRate = true,
    private readonly width = 30,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, note = ''): void {
    const now = performance.now();
    const ratio = this.total > 0 ? Math.min(1, done / this.total) : 1;
    if (this.tty) {
      if (now - this.lastDraw < 100 && ratio < 1) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line(done, ratio, now, note)}\x1b[K`);
    } else {
      const decile = Math.floor(ratio * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.stream.write(`${this.line(done, ratio, now, note)}\n`);
    }
  }

  /** Ends the bar's line. */
  finish(note = ''): void {
    this.update(this.total, note);
    if (this.tty) this.stream.write('\n');
  }

  private line(done: number, ratio: number, now: number, note: string): string {
    const filled = Math.round(ratio * this.width);
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = this.showRate && rate > 0 && ratio < 1 ? ` ETA ${Math.ceil((this.total - done) / rate)}s` : '';
    const speed = this.showRate ? ` ${Math.round(rate).toLocaleString('en-US')}/s` : '';
    const bar = `${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}`;
    const count = `${done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')}`;
    return `${this.label} [${bar}] ${Math.floor(ratio * 100)}% ${count}${speed} ${elapsed.toFixed(1)}s${eta}${note ? ` ${note}` : ''}`;
  }
}
