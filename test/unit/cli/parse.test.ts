import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/errors';
import {
  parseCheckId,
  parseCheckType,
  parseClusterId,
  parseDuration,
  parseNonNegativeInt,
  parsePort,
} from '../../../lib/cli/parse';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['5', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [' 3S ', 3000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '-1s', '5 days', '1e3'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidArgumentError);
  });
});

describe('parsePort and parseNonNegativeInt', () => {
  it('accepts 0 to 65535 and refuses the rest', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('65535')).toBe(65535);
    for (const bad of ['65536', '-1', '80.5', 'http', ''])
      expect(() => parsePort(bad)).toThrow(InvalidArgumentError);
  });
  it('accepts non-negative integers only', () => {
    expect(parseNonNegativeInt('42')).toBe(42);
    for (const bad of ['-3', '1.2', 'x', '99999999999999999999']) {
      expect(() => parseNonNegativeInt(bad)).toThrow(InvalidArgumentError);
    }
  });
});

describe('ids and types', () => {
  it('accepts real-looking ids and refuses path-like or empty ones with INVALID_INPUT', () => {
    expect(parseClusterId('c0123456789abcdef0123456789abcdef')).toBe('c0123456789abcdef0123456789abcdef');
    expect(parseCheckId('1697100584236600453-c01-clustercheck-lboto')).toBe(
      '1697100584236600453-c01-clustercheck-lboto',
    );
    for (const bad of ['', '../etc', 'C0UPPER', 'a/b', 'short']) {
      expect(() => parseClusterId(bad)).toThrow(InputError);
    }
    for (const bad of ['', 'a/b', 'has space', '-leading']) {
      const err = (() => {
        try {
          parseCheckId(bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe('INVALID_INPUT');
    }
  });

  it("returns a check type in ACK's spelling whatever the case, and lists the valid ones otherwise", () => {
    expect(parseCheckType('clusterupgrade')).toBe('ClusterUpgrade');
    expect(parseCheckType('NodePoolUpgrade')).toBe('NodePoolUpgrade');
    expect(() => parseCheckType('Upgrade')).toThrow(
      /ClusterMigrate, MasterUpgrade, NodePoolUpgrade, ClusterUpgrade/,
    );
  });
});
