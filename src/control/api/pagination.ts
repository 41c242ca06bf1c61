// Lists page with a limit and an opaque cursor (keyset, so pages neither skip nor repeat rows
// while others write); the next page's URL is in `nextCursor` and in a Link header (RFC 8288).

import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../store/page.js';

export const PAGE_QUERY = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT)
    .openapi({ description: `Items per page (1-${MAX_PAGE_LIMIT}, default ${DEFAULT_PAGE_LIMIT})` }),
  cursor: z.string().max(512).optional().openapi({ description: 'The previous page\'s nextCursor' }),
});

export function pageOf<T extends z.ZodTypeAny>(item: T, name: string) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as ?cursor= for the next page; null on the last page' }),
  }).openapi(name);
}

/** Sets the Link header for the next page, keeping the request's other query parameters. */
export function linkNextPage(c: Context, nextCursor: string | null): void {
  if (nextCursor === null) return;
  const url = new URL(c.req.url);
  url.searchParams.set('cursor', nextCursor);
  c.header('Link', `<${url.pathname}${url.search}>; rel="next"`);
}
