/** Opaque cursors for keyset pagination: the last row's sort key, as base64url JSON. */
import { Problem } from './problem';

export const encodeCursor = (key: Record<string, string | number | boolean>): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

/** The key of a cursor, checked by `valid`; a cursor that is not ours is a 400 with a clear sentence. */
export function decodeCursor<T>(
  cursor: string | undefined,
  valid: (key: Record<string, unknown>) => key is Record<string, unknown> & T,
): T | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (typeof key !== 'object' || key === null || !valid(key as Record<string, unknown>))
    throw new Problem('bad-request', 'the cursor is not one this API issued: pass nextCursor from the previous page unchanged');
  return key as T;
}

/** The page's items and the cursor after its last one, when the page was full. */
export function pageOf<T>(rows: readonly T[], limit: number, keyOf: (last: T) => Record<string, string | number | boolean>) {
  return { items: rows, nextCursor: rows.length === limit && rows.length > 0 ? encodeCursor(keyOf(rows[rows.length - 1])) : null };
}
