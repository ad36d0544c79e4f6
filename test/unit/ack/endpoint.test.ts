import { describe, expect, it } from 'vitest';
import { resolveAckEndpoint } from '../../../lib/ack/client';
import { ConfigError } from '../../../lib/errors';

describe('resolveAckEndpoint', () => {
  it.each([
    ['cn-hangzhou', {}, 'https://cs.cn-hangzhou.aliyuncs.com'],
    ['ap-southeast-1', {}, 'https://cs.ap-southeast-1.aliyuncs.com'],
    ['cn-hangzhou', { vpc: true }, 'https://cs-vpc.cn-hangzhou.aliyuncs.com'],
    ['cn-hangzhou', { vpc: false }, 'https://cs.cn-hangzhou.aliyuncs.com'],
    [
      'cn-hangzhou',
      { endpoint: 'cs-vpc.cn-shanghai.aliyuncs.com' },
      'https://cs-vpc.cn-shanghai.aliyuncs.com',
    ],
    ['cn-hangzhou', { endpoint: 'http://127.0.0.1:8080', vpc: true }, 'http://127.0.0.1:8080'],
    ['cn-hangzhou', { endpoint: 'http://localhost:9/' }, 'http://localhost:9'],
    ['cn-hangzhou', { endpoint: 'http://[::1]:7000' }, 'http://[::1]:7000'],
    ['cn-hangzhou', { endpoint: 'https://cs.example.internal:8443' }, 'https://cs.example.internal:8443'],
    ['cn-hangzhou', { endpoint: 'http://sim:8080', allowInsecureHttp: true }, 'http://sim:8080'],
    ['not a region', { endpoint: 'http://127.0.0.1:1' }, 'http://127.0.0.1:1'],
  ])('resolves %s with %j to %s', (region, opts, expected) => {
    expect(resolveAckEndpoint(region, opts).origin).toBe(expected);
  });

  it('uses https by default for a bare override host', () => {
    expect(resolveAckEndpoint('cn-beijing', { endpoint: 'cs.cn-beijing.aliyuncs.com' }).protocol).toBe(
      'https:',
    );
  });

  it.each([
    ['Cn-Hangzhou', {}, 'region'],
    ['cn_hangzhou', {}, 'region'],
    ['', {}, 'region'],
    ['cn-hangzhou', { endpoint: 'http://cs.cn-hangzhou.aliyuncs.com' }, 'endpoint'],
    ['cn-hangzhou', { endpoint: 'ftp://127.0.0.1' }, 'endpoint'],
    ['cn-hangzhou', { endpoint: 'https://cs.example.com/prefix' }, 'endpoint'],
    ['cn-hangzhou', { endpoint: 'https://user:pw@cs.example.com' }, 'endpoint'],
    ['cn-hangzhou', { endpoint: 'https://exa mple' }, 'endpoint'],
  ])('refuses region %j / %j with a ConfigError naming %s', (region, opts, path) => {
    let caught: unknown;
    try {
      resolveAckEndpoint(region, opts);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).details.path).toBe(path);
  });
});
