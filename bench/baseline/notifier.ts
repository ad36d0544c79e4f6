/**
 * Cold-start baseline: the notifier's job on the official `tablestore` SDK, unbundled. Its idle cycle
 * (a notify event for a check that is not there) is one GetRow on the watch table.
 */
import TableStore from 'tablestore';

interface Ctx {
  readonly credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
}

export const handler = async (_event: Buffer, context: Ctx): Promise<{ found: boolean }> => {
  const env = process.env;
  const creds = context.credentials;
  const ots = new TableStore.Client({
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    ...(creds.securityToken === undefined ? {} : { stsToken: creds.securityToken }),
    endpoint: env.CHECKWATCH_OTS_ENDPOINT ?? '',
    instancename: env.CHECKWATCH_OTS_INSTANCE ?? '',
  });
  const res = await ots.getRow({
    tableName: 'checkwatch_watch',
    primaryKey: [{ s: TableStore.Long.fromNumber(0) }, { c: 'c-none' }, { k: 'none' }],
    maxVersions: 1,
  });
  return { found: res.row.primaryKey !== undefined };
};
