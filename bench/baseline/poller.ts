/**
 * Cold-start baseline: the poller's job built on the official SDKs, unbundled (each SDK required from
 * node_modules at load, as people deploy it): `@alicloud/cs20151215` for ACK, `@alicloud/fc20230330`
 * to invoke the notifier, `tablestore` for the store. Its idle cycle is one GetRange on the watch table.
 * bench/cold-start.ts transpiles this file (no bundling) and runs it in fresh processes.
 */
import CsClient from '@alicloud/cs20151215';
import FcClient from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import TableStore from 'tablestore';

interface Ctx {
  readonly credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
}

export const handler = async (_event: Buffer, context: Ctx): Promise<{ rows: number; clients: number }> => {
  const env = process.env;
  const creds = context.credentials;
  const openapi = (endpoint: string): $OpenApiUtil.Config =>
    new $OpenApiUtil.Config({ ...creds, endpoint, protocol: 'http', regionId: 'cn-hangzhou' });
  // Built as the poller would need them; the idle cycle calls neither.
  const cs = new CsClient(openapi(new URL(env.CHECKWATCH_ACK_ENDPOINT ?? '').host));
  const fc = new FcClient(openapi(new URL(env.CHECKWATCH_FC_ENDPOINT ?? '').host));
  const clients = [cs, fc];
  const ots = new TableStore.Client({
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    ...(creds.securityToken === undefined ? {} : { stsToken: creds.securityToken }),
    endpoint: env.CHECKWATCH_OTS_ENDPOINT ?? '',
    instancename: env.CHECKWATCH_OTS_INSTANCE ?? '',
  });
  const { INF_MIN, INF_MAX } = TableStore;
  const res = await ots.getRange({
    tableName: 'checkwatch_watch',
    direction: 'FORWARD',
    inclusiveStartPrimaryKey: [{ s: INF_MIN }, { c: INF_MIN }, { k: INF_MIN }],
    exclusiveEndPrimaryKey: [{ s: INF_MAX }, { c: INF_MAX }, { k: INF_MAX }],
    limit: 5000,
  });
  return { rows: res.rows.length, clients: clients.length };
};
