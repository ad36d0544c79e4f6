import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CellValue, compareUtf8, encodeRow, readRow } from '../../../fakes/tablestore/plainbuffer';
import { TableStore } from './helpers';

/** Decodes with the SDK's own reader, which verifies every cell and row CRC8. */
function sdkReadRow(bytes: Buffer): {
  primaryKey: { name: string; value: unknown }[];
  attributes: { columnName: string; columnValue: unknown }[];
} {
  const input = new TableStore.PlainBufferInputStream({ buffer: bytes, offset: 0, limit: bytes.length });
  return new TableStore.PlainBufferCodedInputStream(input).readRow();
}

describe('tablestore fake: PlainBuffer codec', () => {
  it('orders strings as UTF-8 bytes, also across surrogate pairs and U+E000..U+FFFF', () => {
    expect(compareUtf8('\u{1F600}', '\uFFFD')).toBe(1); // '<' on UTF-16 units would say -1
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
  });

  it('writes rows the SDK decodes with valid checksums, for every value type', () => {
    const value = fc.oneof(
      fc
        .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
        .map((v): CellValue => ({ type: 'integer', value: v })),
      fc.double({ noNaN: true }).map((v): CellValue => ({ type: 'double', value: v })),
      fc.boolean().map((v): CellValue => ({ type: 'boolean', value: v })),
      fc.string().map((v): CellValue => ({ type: 'string', value: v })),
      fc.uint8Array({ maxLength: 20 }).map((v): CellValue => ({ type: 'binary', value: Buffer.from(v) })),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        value,
        (id, n, v) => {
          const bytes = encodeRow({
            primaryKey: [
              { name: 'id', value: { type: 'string', value: id } },
              { name: 'n', value: { type: 'integer', value: n } },
            ],
            cells: [{ name: 'col', value: v, ts: 1_700_000_000_000 }],
          });
          const row = sdkReadRow(bytes);
          expect(row.primaryKey[0]?.value).toBe(id);
          expect(String(row.primaryKey[1]?.value)).toBe(n.toString());
          const got = row.attributes[0]?.columnValue;
          if (v.type === 'integer') expect(String(got)).toBe(v.value.toString());
          else if (v.type === 'binary') expect(Buffer.compare(got as Buffer, v.value)).toBe(0);
          else expect(got).toBe(v.value);
          // And the fake's own reader reads what it wrote.
          expect(readRow(bytes).attributes[0]?.value).toEqual(v);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads the INF_MIN/INF_MAX bounds and UpdateRow cell types the SDK writes', () => {
    const bound = readRow(
      TableStore.PlainBufferBuilder.serializePrimaryKey([
        { a: TableStore.INF_MIN },
        { b: TableStore.INF_MAX },
      ]),
    );
    expect(bound.primaryKey.map((c) => c.value?.type)).toEqual(['infMin', 'infMax']);
    const change = readRow(
      TableStore.PlainBufferBuilder.serializeForUpdateRow(
        [{ id: 'k' }],
        [
          { DELETE_ALL: ['gone'] },
          { DELETE: [{ old: TableStore.Long.fromNumber(5) }] },
          { INCREMENT: [{ hits: TableStore.Long.fromNumber(2) }] },
        ],
      ),
    );
    expect(change.attributes.map((c) => [c.name, c.op, c.timestamp])).toEqual([
      ['gone', 1, undefined],
      ['old', 3, 5],
      ['hits', 4, undefined],
    ]);
  });
});
