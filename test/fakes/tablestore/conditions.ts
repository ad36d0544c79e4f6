/**
 * Column conditions and column filters (`filter.proto.Filter`): the same tree is a write condition
 * (`Condition.column_condition`) and a read filter (`GetRow/GetRange.filter`).
 */
import { otsErrors } from './errors';
import { type CellValue, PlainBufferError, compareValues, readConditionValue } from './plainbuffer';
import { Comparator, FilterType, LogicalOp, pb } from './proto';
import type { Cell } from './table';

export type ColumnCondition =
  | {
      readonly kind: 'single';
      readonly column: string;
      readonly comparator: number;
      readonly value: CellValue;
      /** `passIfMissing` in the SDK is `!filter_if_missing`; the SDK defaults it to true. */
      readonly passIfMissing: boolean;
      readonly latestVersionOnly: boolean;
    }
  | { readonly kind: 'composite'; readonly op: number; readonly children: readonly ColumnCondition[] }
  | { readonly kind: 'pagination'; readonly offset: number; readonly limit: number };

/** Decodes a serialized `Filter`; malformed input is OTSParameterInvalid. */
export function decodeCondition(bytes: Uint8Array): ColumnCondition {
  try {
    return decodeFilter(pb.Filter.decode(bytes));
  } catch (err) {
    if (err instanceof PlainBufferError || err instanceof Error) {
      throw otsErrors.parameterInvalid(`Invalid column condition: ${err.message}`);
    }
    throw err;
  }
}

function decodeFilter(f: { type: number; filter: Uint8Array }): ColumnCondition {
  switch (f.type) {
    case FilterType.SINGLE: {
      const s = pb.SingleColumnValueFilter.decode(f.filter);
      if (s.comparator < Comparator.EQ || s.comparator > Comparator.LE) throw new Error('unknown comparator');
      return {
        kind: 'single',
        column: s.columnName,
        comparator: s.comparator,
        value: readConditionValue(s.columnValue),
        passIfMissing: !s.filterIfMissing,
        latestVersionOnly: s.latestVersionOnly,
      };
    }
    case FilterType.COMPOSITE: {
      const c = pb.CompositeColumnValueFilter.decode(f.filter);
      const children = c.subFilters.map(decodeFilter);
      if (c.combinator === LogicalOp.NOT && children.length !== 1) {
        throw new Error('NOT takes exactly one sub condition');
      }
      if (c.combinator !== LogicalOp.NOT && children.length < 2) {
        throw new Error('AND/OR take at least two sub conditions');
      }
      if (children.some((ch) => ch.kind === 'pagination')) throw new Error('pagination inside a composite');
      return { kind: 'composite', op: c.combinator, children };
    }
    case FilterType.PAGINATION: {
      const p = pb.ColumnPaginationFilter.decode(f.filter);
      return { kind: 'pagination', offset: p.offset, limit: p.limit };
    }
    default:
      throw new Error(`unknown filter type ${f.type}`);
  }
}

function compareMatches(comparator: number, c: number): boolean {
  switch (comparator) {
    case Comparator.EQ:
      return c === 0;
    case Comparator.NE:
      return c !== 0;
    case Comparator.GT:
      return c > 0;
    case Comparator.GE:
      return c >= 0;
    case Comparator.LT:
      return c < 0;
    default:
      return c <= 0;
  }
}

/**
 * Evaluates a condition against a row's visible cells (newest version first per column). A missing row
 * has no columns. A value of another type than the condition's never matches (the service compares
 * only like types).
 */
export function evaluate(cond: ColumnCondition, columns: ReadonlyMap<string, readonly Cell[]>): boolean {
  switch (cond.kind) {
    case 'single': {
      const versions = columns.get(cond.column);
      if (versions === undefined || versions.length === 0) return cond.passIfMissing;
      const candidates = cond.latestVersionOnly ? versions.slice(0, 1) : versions;
      return candidates.some((cell) => {
        const c = compareValues(cell.value, cond.value);
        return c !== undefined && compareMatches(cond.comparator, c);
      });
    }
    case 'composite':
      if (cond.op === LogicalOp.NOT) return !evaluate(cond.children[0] as ColumnCondition, columns);
      if (cond.op === LogicalOp.AND) return cond.children.every((ch) => evaluate(ch, columns));
      return cond.children.some((ch) => evaluate(ch, columns));
    case 'pagination':
      return true;
  }
}
