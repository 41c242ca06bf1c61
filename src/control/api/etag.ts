// Optimistic concurrency: every resource's ETag is its id and version; a change must send
// If-Match with the ETag it read, so two writers cannot overwrite each other unseen (RFC 9110 13.1.1).

import type { Context } from 'hono';
import { MasterApiError } from './master-api-error.js';

export function etagOf(id: string, version: number): string {
  return `"${id}.${version}"`;
}

export function setEtag(c: Context, id: string, version: number): void {
  c.header('ETag', etagOf(id, version));
}

/**
 * The version the client last read, from If-Match; `required` changes answer 428 without it.
 * `*` matches any version (null).
 */
export function ifMatchVersion(c: Context, id: string, required: boolean): number | null {
  const header = c.req.header('If-Match');
  if (header === undefined || header.trim() === '') {
    if (required) throw new MasterApiError('precondition-required', 'send If-Match with the ETag from a GET of this resource, so a concurrent change is not overwritten');
    return null;
  }
  if (header.trim() === '*') return null;
  for (const tag of header.split(',')) {
    const match = /^\s*(?:W\/)?"([^"]+)\.(\d+)"\s*$/u.exec(tag);
    if (match !== null && match[1] === id) return Number(match[2]);
  }
  throw new MasterApiError('version-conflict', `If-Match ${header} is not an ETag of ${id}; GET it again`, { id });
}
