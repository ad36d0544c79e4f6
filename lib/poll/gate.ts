import { AckError } from '../ack/errors';
import type { Clock } from '../clock';

/**
 * Bounded concurrency toward ACK with a shared brake: when any call is throttled, the whole cycle slows
 * down instead of every worker hammering on its own. On `Throttling*` the gate halves its concurrency
 * (down to 1) and holds every new call until the server's `x-acs-retry-after` hint (or a backoff) has
 * passed; each success after that earns one slot back (additive increase, multiplicative decrease).
 */
export class AckGate {
  private active = 0;
  private limit: number;
  private pausedUntil = 0;
  private readonly waiters: (() => void)[] = [];
  /** Calls that found the brake on, for the cycle summary. */
  throttledWaits = 0;

  constructor(
    private readonly maxConcurrency: number,
    private readonly clock: Clock,
  ) {
    this.limit = Math.max(1, maxConcurrency);
  }

  get concurrency(): number {
    return this.limit;
  }

  /**
   * Runs `fn` when a slot is free and no brake is on. With a `deadline` (epoch ms), a brake that lasts
   * until or beyond it fails the call at once with `ACK_DEADLINE` instead of sleeping past it: a
   * `x-acs-retry-after` of two minutes must not park a poller beyond its Function Compute timeout.
   */
  async run<T>(fn: () => Promise<T>, deadline?: number): Promise<T> {
    await this.acquire(deadline);
    try {
      return await fn();
    } finally {
      this.active -= 1;
      this.wakeOne();
    }
  }

  /** Reports a throttled reply: slow every caller down until `retryAfterMs` from now. */
  throttled(retryAfterMs: number): void {
    this.limit = Math.max(1, Math.floor(this.limit / 2));
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + Math.max(0, retryAfterMs));
  }

  /** Reports a success: recover one slot of concurrency. */
  succeeded(): void {
    if (this.limit < this.maxConcurrency) {
      this.limit += 1;
      this.wakeOne();
    }
  }

  /** Epoch ms until which the brake holds new calls (0: never throttled). */
  get brakeUntil(): number {
    return this.pausedUntil;
  }

  private async acquire(deadline: number | undefined): Promise<void> {
    for (;;) {
      const wait = this.pausedUntil - this.clock.now();
      if (wait > 0) {
        if (deadline !== undefined && this.pausedUntil >= deadline) {
          // This caller was woken to take a slot and gives up instead: pass the wake-up on, or the
          // waiters behind it sleep forever with no call running to wake them (soak regression).
          this.wakeOne();
          throw new AckError(
            'ACK_DEADLINE',
            `ACK throttled calls until ${new Date(this.pausedUntil).toISOString()}, past the call's deadline ${new Date(deadline).toISOString()}`,
            { retryAfterMs: wait },
          );
        }
        this.throttledWaits += 1;
        await this.clock.sleep(wait);
        continue;
      }
      if (this.active < this.limit) {
        this.active += 1;
        // Capacity freed while this caller slept through a brake must not sit idle.
        if (this.active < this.limit) this.wakeOne();
        return;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wakeOne(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next();
  }
}
