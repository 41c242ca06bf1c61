// Keyset pagination: a page ends with an opaque cursor naming the last row's sort key and id, and
// the next page starts strictly after it, so rows added or removed meanwhile never shift a page
// (no duplicates, no gaps), unlike OFFSET.

import { StoreError } from './store-error.js';

export interface PageRequest {
  /** Rows per page: 1..MAX_PAGE_LIMIT, DEFAULT_PAGE_LIMIT when absent. */
  limit?: number;
  /** The `nextCursor` of the previous page; absent or null for the first. */
  cursor?: string | null;
}

export interface Page<T> {
  items: T[];
  /** Null on the last page. */
  nextCursor: string | null;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

export type CursorKey = [string | number, string];

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new StoreError('invalid', `a page limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}, not ${limit}`, { limit });
  }
  return limit;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 2 && (typeof key[0] === 'string' || typeof key[0] === 'number') && typeof key[1] === 'string') {
      return [key[0], key[1]];
    }
  } catch {
    // reported below
  }
  throw new StoreError('invalid', 'the page cursor is not one this server gave out; start again without a cursor', { cursor });
}

/** Cuts the `limit + 1` rows fetched down to a page, with a cursor when there is more. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => CursorKey): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1]!)) };
}

/** Every row a paged list gives, page after page (for the master's own bookkeeping, not for clients). */
export async function allPages<T>(list: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page = await list({ limit: MAX_PAGE_LIMIT, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}
