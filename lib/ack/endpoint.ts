import { ConfigError } from '../errors';

/** Region ids are lowercase words joined by dashes (`cn-hangzhou`, `ap-southeast-1`). */
const REGION_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export interface EndpointOptions {
  /** Explicit override: `http://127.0.0.1:1234`, `https://host` or a bare host (`cs-vpc.cn-hangzhou.aliyuncs.com`). */
  endpoint?: string | undefined;
  /** Use the VPC endpoint `cs-vpc.<region>.aliyuncs.com`. Ignored when `endpoint` is set. */
  vpc?: boolean | undefined;
  /**
   * Allow `http://` to a non-loopback host. Off by default: AccessKey-signed traffic to ACK is HTTPS
   * in production; plain HTTP is only for the simulator on loopback (or this explicit opt-in, e.g. a
   * simulator in a container network).
   */
  allowInsecureHttp?: boolean | undefined;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * The base URL for ACK calls. An explicit endpoint wins (bare hosts get `https://`); otherwise the
 * region picks `https://cs.<region>.aliyuncs.com` or, with `vpc`, `https://cs-vpc.<region>.aliyuncs.com`.
 * Throws {@link ConfigError} for an invalid region, a malformed endpoint, an endpoint with a path, or
 * `http://` to a non-loopback host without `allowInsecureHttp`.
 */
export function resolveAckEndpoint(region: string, opts: EndpointOptions = {}): URL {
  const override = opts.endpoint?.trim();
  if (override !== undefined && override !== '') {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(override) ? override : `https://${override}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch (cause) {
      throw new ConfigError(`ACK endpoint "${override}" is not a valid URL or host`, {
        path: 'endpoint',
        cause,
      });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ConfigError(`ACK endpoint must be http(s), got ${url.protocol}`, { path: 'endpoint' });
    }
    if (url.protocol === 'http:' && opts.allowInsecureHttp !== true && !isLoopback(url.hostname)) {
      throw new ConfigError(
        `ACK endpoint ${url.host} uses plain http: only loopback hosts may (AccessKey-signed traffic must be https)`,
        { path: 'endpoint' },
      );
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
      throw new ConfigError(`ACK endpoint must be a scheme and host only, got "${override}"`, {
        path: 'endpoint',
      });
    }
    if (url.username !== '' || url.password !== '') {
      throw new ConfigError('ACK endpoint must not carry user info', { path: 'endpoint' });
    }
    return url;
  }
  if (!REGION_PATTERN.test(region)) {
    throw new ConfigError(`"${region}" is not a region id (e.g. cn-hangzhou)`, { path: 'region' });
  }
  return new URL(`https://${opts.vpc === true ? 'cs-vpc' : 'cs'}.${region}.aliyuncs.com`);
}
