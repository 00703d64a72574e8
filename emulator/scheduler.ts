/**
 * Every timer and outgoing request of the emulator goes through one scheduler, so that
 * `close()` and `reset` can cancel all of them and leave nothing running.
 */
export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly requests = new Set<AbortController>();
  private stopped = false;
  /** Bumped by every `cancelAll`: work begun before it must not schedule anything after it. */
  private epoch = 0;

  /** The current epoch, to be checked with `isCurrent` by work that resumes after an await. */
  currentEpoch(): number {
    return this.epoch;
  }

  /** False once a reset or close happened since `epoch` was read, or after close. */
  isCurrent(epoch: number): boolean {
    return !this.stopped && epoch === this.epoch;
  }

  /** Runs `task` after `delayMs` unless cancelled first; returns the handle to cancel it. */
  after(delayMs: number, task: () => void): NodeJS.Timeout | undefined {
    if (this.stopped) return undefined;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, delayMs);
    this.timers.add(timer);
    return timer;
  }

  cancel(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** An abort signal for an outgoing request, fired by `timeoutMs` or by `cancelAll`. */
  requestSignal(timeoutMs: number): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    this.requests.add(controller);
    const timer = this.after(timeoutMs, () => controller.abort(new Error(`no answer within ${timeoutMs} ms`)));
    if (this.stopped) controller.abort(new Error('emulator closed'));
    return {
      signal: controller.signal,
      done: () => {
        this.cancel(timer);
        this.requests.delete(controller);
      },
    };
  }

  /** Cancels every timer and aborts every outgoing request; `final` also refuses new ones' requests. */
  cancelAll(final = false): void {
    if (final) this.stopped = true;
    this.epoch += 1;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.requests) controller.abort(new Error('emulator reset or closed'));
    this.requests.clear();
  }
}
