import { describe, expect, it } from 'vitest';
import { isolatedEnv, removeIsolatedHomes, runSpawned } from './helpers';

/** `checkwatch demo` (what `npm run demo` runs) with the built binary: one test, it takes ~10-15 s. */
describe('checkwatch demo', () => {
  it('exits 0 after printing every message DingTalk and Slack accepted', async () => {
    try {
      const r = await runSpawned(['demo'], isolatedEnv());
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // Three checks (passed, failed with failing items, discovered on a watched cluster), two channels each.
      expect(r.stdout.match(/DingTalk \(team-dingtalk\) shows:/g)).toHaveLength(3);
      expect(r.stdout.match(/Slack \(team-slack\) shows:/g)).toHaveLength(3);
      expect(r.stdout).toContain('❌ Check failed: MasterUpgrade on demo-prod');
      expect(r.stdout).toContain('✅ Check passed: ClusterUpgrade on demo-prod');
      expect(r.stdout).toContain('✅ Check passed: NodePoolUpgrade on demo-staging');
      expect(r.stdout).toMatch(/\[error\] \w+/);
      expect(r.stdout).toContain('Demo done: 6 messages delivered.');
    } finally {
      removeIsolatedHomes();
    }
  }, 90_000);
});
