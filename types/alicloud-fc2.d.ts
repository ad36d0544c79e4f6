/**
 * The part of `@alicloud/fc2` 2.6.6 (lib/client.js) that checkwatch uses. The package ships no types.
 * Pinned to that version: `lib/dispatch/fc.ts` relies on how `request()` builds the URL
 * (`${endpoint}/${version}${path}`) and what it signs (`/${version}${path}`, queries only for
 * `/proxy/` paths).
 */
declare module '@alicloud/fc2' {
  interface FcClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    /** Required, and only sent, when `accessKeyID` starts with `STS`. */
    securityToken?: string;
    region: string;
    /** Milliseconds for connect and for read; default 60 000. */
    timeout?: number;
    /** `https` when true; **defaults to http**. Ignored when `endpoint` is set. */
    secure?: boolean;
    /** `{region}-internal` host, reachable only inside the region. */
    internal?: boolean;
    /** Overrides `http(s)://{accountId}.{region}[-internal].fc.aliyuncs.com` entirely. */
    endpoint?: string;
    /** Extra headers on every request. */
    headers?: Record<string, string>;
  }

  /**
   * A non-2xx reply is thrown as an `Error` whose `code` is the body's `ErrorCode` (the FC 2.0 error
   * shape; undefined for FC 3.0's `{Code, Message}`) and whose message holds the HTTP status.
   */
  interface FcResponse {
    headers: Record<string, string | string[] | undefined>;
    /** Parsed JSON when the reply is `application/json`, else the text ('' for an async 202). */
    data: unknown;
  }

  class FCClient {
    constructor(accountId: string, config: FcClientConfig);
    readonly accountid: string;
    readonly endpoint: string;
    readonly host: string;
    /** API version used as the first path segment and in the signed resource; '2016-08-15' by default. */
    version: string;
    timeout: number;
    request(
      method: string,
      path: string,
      query: Record<string, string | string[]> | null,
      body: Buffer | string | null,
      headers?: Record<string, string>,
    ): Promise<FcResponse>;
    post(
      path: string,
      body: Buffer | string,
      headers?: Record<string, string>,
      queries?: Record<string, string | string[]>,
    ): Promise<FcResponse>;
    /** FC 2.0: `POST /2016-08-15/services/{service}[.{qualifier}]/functions/{fn}/invocations`. */
    invokeFunction(
      serviceName: string,
      functionName: string,
      event: Buffer | string,
      headers?: Record<string, string>,
      qualifier?: string,
    ): Promise<FcResponse>;
    /** `FC {accessKeyID}:{base64 HMAC-SHA256(secret, stringToSign)}`. */
    static getSignature(
      accessKeyID: string,
      accessKeySecret: string,
      method: string,
      path: string,
      headers: Record<string, string | number>,
      queries: Record<string, string | string[]> | null,
    ): string;
  }

  export = FCClient;
}
