// Turns a driver's error (better-sqlite3's SqliteError, pg's DatabaseError, a socket error) into
// a StoreError, so that callers see the same kind and field from SQLite and PostgreSQL.

import { StoreError, type StoreErrorContext } from './store-error.js';

/** What the failing statement did: a missing parent on insert is 'invalid', a child on delete a 'conflict'. */
export type StatementKind = 'insert' | 'update' | 'delete' | 'query';

interface DriverError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
}

const PG_UNAVAILABLE = /^(08|53|57P0)/; // connection exceptions, out of resources, server shutting down
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'ENOENT', 'EHOSTUNREACH']);

function uniqueColumns(error: DriverError): string[] {
  // SQLite: "UNIQUE constraint failed: virtual_machines.tenant_id, virtual_machines.name"
  const sqlite = /UNIQUE constraint failed: (.+)$/.exec(String(error.message ?? ''));
  if (sqlite) return sqlite[1]!.split(',').map((c) => c.trim().replace(/^.*\./, ''));
  // PostgreSQL: detail "Key (tenant_id, name)=(..., web) already exists."
  const pg = /^Key \((.+?)\)=/.exec(String(error.detail ?? ''));
  if (pg) return pg[1]!.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  return [];
}

export function toStoreError(error: unknown, statement: StatementKind, context: StoreErrorContext = {}): unknown {
  if (error instanceof StoreError || typeof error !== 'object' || error === null) return error;
  const e = error as DriverError;
  const code = typeof e.code === 'string' ? e.code : '';
  const what = context.entity ?? 'row';

  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505') {
    const columns = uniqueColumns(e);
    // The last column names the thing; those before it are the scope (tenant_id, name).
    const field = columns[columns.length - 1] ?? 'unknown';
    const scope = columns.length > 1 ? ` within its ${columns.slice(0, -1).join(', ')}` : '';
    return new StoreError('conflict', `a ${what} with this ${field} already exists${scope}; choose another ${field}`,
      { ...context, field, fields: columns }, { cause: error });
  }
  // SQLite reports ON DELETE RESTRICT as SQLITE_CONSTRAINT_TRIGGER, with the same message.
  const foreignKey = code === '23503' || (code.startsWith('SQLITE_CONSTRAINT') && /FOREIGN KEY constraint failed/.test(String(e.message)));
  if (foreignKey) {
    if (statement === 'delete') {
      return new StoreError('conflict', `the ${what} is still in use by other records; remove or move them first`, context, { cause: error });
    }
    return new StoreError('invalid', `the ${what} refers to a record that does not exist`, context, { cause: error });
  }
  if (code.startsWith('SQLITE_CONSTRAINT') || /^(23|22)/.test(code)) {
    return new StoreError('invalid', `the ${what} was refused by the database: ${String(e.message)}`, context, { cause: error });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_FULL' ||
      code === 'SQLITE_READONLY' || code === '40001' || code === '40P01' || PG_UNAVAILABLE.test(code) || SOCKET_ERRORS.has(code)) {
    return new StoreError('unavailable', `the database is unavailable or busy (${code}): ${String(e.message)}; try again`, context, { cause: error });
  }
  return error;
}

/** Runs a statement and rethrows its failure as a StoreError where one fits. */
export async function translated<T>(statement: StatementKind, context: StoreErrorContext, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toStoreError(error, statement, context);
  }
}
