/**
 * The short, seeded fault soak (the full one is `npm run soak`; docs/RELIABILITY.md): 100 checks over
 * 10 clusters through the real poller and notifier in worker processes, with ~10 % faults in ACK,
 * Tablestore, FC and the chat platforms, SIGKILLed workers, overlapping pollers and lost, duplicated
 * and late async events. After the faults stop, every invariant of DESIGN.md must hold.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runSoak, violations, type SoakReport } from './harness';

const SEED = 20_260_101;

describe('the short fault soak (seed 20260101)', () => {
  let report: SoakReport | undefined;

  it('delivers every finished check to every routed channel exactly once, despite faults and crashes', async () => {
    report = await runSoak({
      seed: SEED,
      checks: 100,
      clusters: 10,
      arrivalMs: 15_000,
      faultTailMs: 4_000,
      maxDrainMs: 90_000,
      maxAgeMs: 15_000,
      notifiers: 6,
    });
    const r = report;
    // Printed so that a failure in CI can be reproduced and read without re-running.
    console.log(formatReport(r));
    expect(violations(r)).toEqual([]);
    expect(r.checks.watched).toBe(100);
    expect(r.drained).toBe(true);
    expect(r.missing).toEqual([]);
    expect(r.duplicates).toEqual([]);
    expect(r.deliveries.delivered).toBe(r.deliveries.expected);
  }, 180_000);

  it('actually injected faults of every family and crashed both kinds of worker', () => {
    const r = report;
    expect(r).toBeDefined();
    if (r === undefined) return;
    const families = ['ack', 'tablestore', 'chat'];
    for (const f of families) {
      const n = Object.entries(r.faults)
        .filter(([k]) => k.startsWith(f))
        .reduce((a, [, v]) => a + v, 0);
      expect(n, `${f} faults`).toBeGreaterThan(0);
    }
    expect(r.crashes.poller + r.crashes.notifier).toBeGreaterThan(0);
    expect(r.invocations.overlapping).toBeGreaterThan(0);
    expect(r.checks.byOutcome.gave_up ?? 0).toBeGreaterThan(0);
  });

  it('never writes a secret into a log line, and leaves no lease held and no check watched past its age', () => {
    const r = report;
    expect(r).toBeDefined();
    if (r === undefined) return;
    expect(r.logLines).toBeGreaterThan(100);
    expect(r.secretLeaks).toEqual([]);
    expect(r.leases).toEqual([]);
    expect(r.overAge).toEqual([]);
    expect(r.leftPending).toBe(0);
  });
});
