import { apiError } from '../errors';

/**
 * Event-loop time the heavy pieces of resolver work (a recommendation list, an explanation, a
 * page of ratings …) may take together before the rest waits for the next turn of the loop, so
 * that other requests' I/O (a `{ ping }`, a WebSocket message) is served in between.
 */
export const SLICE_MS = 8;

/**
 * A cooperative scheduler of synchronous work on the event loop. graphql-js calls every resolver
 * of a selection in one synchronous pass, so 100 recommendation lists in one request would run back
 * to back; through {@link Slicer.run} the pieces run at once while the current slice (one turn
 * of the loop) has used less than `sliceMs`, and otherwise wait, first come first served, for
 * the next turns (`setImmediate`, which runs after the loop has polled for I/O). The longest a
 * request then holds the loop is about one slice plus its longest single piece.
 */
export class Slicer {
  private sliceStart = 0;
  private sliceOpen = false;
  private readonly queue: Array<() => void> = [];
  private drainScheduled = false;

  /** `now`: the clock in ms (tests pass their own). */
  constructor(
    readonly sliceMs = SLICE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs `piece` now or in a later turn of the loop; `before` runs just before it (and may throw instead). */
  async run<T>(piece: () => T, before?: () => void): Promise<T> {
    if (this.queue.length > 0 || !this.withinSlice()) {
      await new Promise<void>((resolve) => {
        this.queue.push(resolve);
        this.scheduleDrain();
      });
    }
    try {
      before?.();
      return piece();
    } finally {
      this.next();
    }
  }

  /** Pieces waiting for a turn. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Whether the current slice has time left (opening one when none is open in this turn). */
  private withinSlice(): boolean {
    const now = this.now();
    if (!this.sliceOpen) {
      this.sliceOpen = true;
      this.sliceStart = now;
      setImmediate(this.closeSlice);
      return true;
    }
    return now - this.sliceStart < this.sliceMs;
  }

  private readonly closeSlice = (): void => {
    this.sliceOpen = false;
  };

  /** After a piece: the next waiting one now if the slice has time left, else in the next turn. */
  private next(): void {
    if (this.queue.length === 0) return;
    if (this.withinSlice()) this.queue.shift()!();
    else this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    // A new turn of the loop: a new slice.
    this.sliceOpen = false;
    if (this.queue.length > 0 && this.withinSlice()) this.queue.shift()!();
    else if (this.queue.length > 0) this.scheduleDrain();
  };
}

/** The server's one slicer (all requests share the event loop). */
export const eventLoopSlicer = new Slicer();

/**
 * The time budget of one operation (`RECSYS_OPERATION_TIMEOUT_MS`, default 10 s), and its share of
 * the event loop: heavy synchronous pieces go through {@link OperationBudget.run}, waits on worker
 * threads take {@link OperationBudget.signal}. Once the budget is spent, what has not run yet is
 * refused with code TIMEOUT (the rest of the response is still sent, with those fields null).
 */
export class OperationBudget {
  readonly deadline: number;

  constructor(
    readonly timeoutMs: number,
    private readonly slicer: Slicer = eventLoopSlicer,
  ) {
    this.deadline = performance.now() + timeoutMs;
  }

  /** The TIMEOUT error of this budget. */
  timeoutError(): Error {
    return apiError('TIMEOUT', `the operation took longer than its time budget of ${this.timeoutMs} ms and was cancelled (RECSYS_OPERATION_TIMEOUT_MS)`, { timeoutMs: this.timeoutMs });
  }

  /** Throws TIMEOUT once the budget is spent. */
  check(): void {
    if (performance.now() > this.deadline) throw this.timeoutError();
  }

  /** Runs a heavy synchronous piece in its turn (see {@link Slicer}), unless the budget is spent by then. */
  run<T>(piece: () => T): Promise<T> {
    return this.slicer.run(piece, () => this.check());
  }

  /**
   * Waits for work done elsewhere (worker threads) that takes an AbortSignal: the signal aborts
   * when the budget is spent (`AbortSignal.timeout`, whose timer does not outlive an operation
   * that no longer listens), and the wait then fails with TIMEOUT.
   */
  async wait<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.check();
    const signal = AbortSignal.timeout(Math.min(2 ** 31 - 1, Math.max(1, Math.ceil(this.deadline - performance.now()))));
    try {
      return await work(signal);
    } catch (error) {
      if (signal.aborted && error === signal.reason) throw this.timeoutError();
      throw error;
    }
  }
}
