/**
 * fake-indexeddb (6.x) starts every cursor step from the lower bound of the cursor's key range
 * instead of from the cursor's position (makeKeyRange keeps the smaller of the two), so a cursor
 * over n records costs n² comparisons. RxDB's Dexie storage reads every query through a
 * bounded cursor: 2,500 records took minutes. This narrows the range to the position before each
 * step; the records visited, and so every result, are the same.
 */
import { IDBCursor as FDBCursor, IDBFactory, IDBKeyRange as FDBKeyRange } from 'fake-indexeddb';

interface CursorInternals {
  _range?: IDBKeyRange;
  _position?: unknown;
  direction: IDBCursorDirection;
  _iterate(key?: unknown, primaryKey?: unknown): unknown;
}

let patched = false;

export function speedUpFakeIndexedDbCursors(): void {
  if (patched) return;
  patched = true;
  const factory = new IDBFactory();
  const cmp = (a: unknown, b: unknown) => factory.cmp(a, b);
  const proto = FDBCursor.prototype as unknown as CursorInternals;
  const iterate = proto._iterate;
  proto._iterate = function (this: CursorInternals, key?: unknown, primaryKey?: unknown) {
    const range = this._range;
    const position = this._position;
    if (
      range === undefined ||
      position === undefined ||
      range.lower === undefined ||
      !this.direction.startsWith('next') ||
      cmp(range.lower, position) >= 0
    ) {
      return iterate.call(this, key, primaryKey);
    }
    this._range = range.upper === undefined ? FDBKeyRange.lowerBound(position) : FDBKeyRange.bound(position, range.upper, false, range.upperOpen);
    try {
      return iterate.call(this, key, primaryKey);
    } finally {
      this._range = range;
    }
  };
}
