/**
 * A sliding-window counter: at most `limit` events in any `windowMs`. Only admitted events count, since
 * the platforms limit what they post, not what they refuse.
 */
export class SlidingWindow {
  private readonly stamps: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Admits and records an event at `now`, or returns false when the window is full. */
  tryAcquire(now: number): boolean {
    this.prune(now);
    if (this.stamps.length >= this.limit) return false;
    this.stamps.push(now);
    return true;
  }

  /** Milliseconds until the next event would be admitted (0 when it would be now). */
  waitMs(now: number): number {
    this.prune(now);
    const oldest = this.stamps[0];
    if (this.stamps.length < this.limit || oldest === undefined) return 0;
    return Math.max(0, oldest + this.windowMs - now);
  }

  clear(): void {
    this.stamps.length = 0;
  }

  private prune(now: number): void {
    // A clock that goes backwards (a test rewinding it) must not keep stale stamps forever.
    while (this.stamps.length > 0) {
      const first = this.stamps[0]!;
      if (first > now - this.windowMs && first <= now) break;
      this.stamps.shift();
    }
  }
}
