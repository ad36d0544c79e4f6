/**
 * Cold-start baseline: the API's job on the official SDKs, unbundled: `@alicloud/cs20151215` (for
 * RunClusterCheck) and `tablestore`. Its idle request (a health check) is one GetRange on the watch table.
 */
import CsClient from '@alicloud/cs20151215';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import TableStore from 'tablestore';

interface Ctx {
  readonly credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
}

export const handler = async (
  _event: Buffer,
  context: Ctx,
): Promise<{ statusCode: number; clients: number }> => {
  const env = process.env;
  const creds = context.credentials;
  const cs = new CsClient(
    new $OpenApiUtil.Config({
      ...creds,
      endpoint: new URL(env.CHECKWATCH_ACK_ENDPOINT ?? '').host,
      protocol: 'http',
      regionId: 'cn-hangzhou',
    }),
  );
  const clients = [cs];
  const ots = new TableStore.Client({
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    ...(creds.securityToken === undefined ? {} : { stsToken: creds.securityToken }),
    endpoint: env.CHECKWATCH_OTS_ENDPOINT ?? '',
    instancename: env.CHECKWATCH_OTS_INSTANCE ?? '',
  });
  const { INF_MIN, INF_MAX } = TableStore;
  await ots.getRange({
    tableName: 'checkwatch_watch',
    direction: 'FORWARD',
    inclusiveStartPrimaryKey: [{ s: INF_MIN }, { c: INF_MIN }, { k: INF_MIN }],
    exclusiveEndPrimaryKey: [{ s: INF_MAX }, { c: INF_MAX }, { k: INF_MAX }],
    limit: 1,
  });
  return { statusCode: 200, clients: clients.length };
};
