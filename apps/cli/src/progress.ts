import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr, shown only when stderr is a terminal (never in pipes or CI logs). */
export class Progress {
  private bar: SingleBar | null = null;
  private readonly enabled: boolean;

  constructor(private readonly label: string, enabled = process.stderr.isTTY === true) {
    this.enabled = enabled;
  }

  /** Report `done` of `total` units (bytes, epochs, movies …); the bar starts on the first call. */
  readonly update = (done: number, total: number): void => {
    if (!this.enabled) return;
    if (this.bar === null) {
      this.bar = new SingleBar(
        { format: `${this.label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 20 },
        Presets.shades_classic,
      );
      this.bar.start(total, done);
    } else {
      this.bar.setTotal(total);
      this.bar.update(done);
    }
  };

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
