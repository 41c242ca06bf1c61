// What every repository does the same way: insert with a new id and timestamps, read by id or
// by a unique key, list a keyset page with equality filters, update with optimistic
// concurrency, delete; each statement's failure turned into a StoreError. The repositories
// (one file per resource) add their inputs, defaults and named look-ups on top.

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { StoreError } from './store-error.js';
import { translated } from './to-store-error.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './page.js';
import type { MasterDatabase } from './tables.js';

export type TableName = Exclude<keyof MasterDatabase, 'audit_log' | 'audit_head'>;
export type Row<T extends TableName> = Selectable<MasterDatabase[T]>;
/** Equality filters; null means IS NULL, undefined means no filter. */
export type Filter = Record<string, string | number | null | undefined>;

export interface TableSpec<T extends TableName> {
  table: T;
  /** How errors name a row: 'data center', 'virtual machine'. */
  entity: string;
  /** Pages are ordered by (sortKey, id). */
  sortKey: 'name' | 'created_at' | 'id';
  /** Which bookkeeping columns the table has. */
  stamps: 'versioned' | 'created' | 'none';
}

export function now(): string {
  return new Date().toISOString();
}

export class TableRepository<T extends TableName> {
  /** For the typed queries of the repositories themselves. */
  protected readonly db: Kysely<MasterDatabase>;
  protected readonly spec: TableSpec<T>;
  // Kysely cannot type a query over a table chosen by a type parameter; the methods here are
  // typed by their results instead.
  protected readonly untyped: Kysely<any>;
  protected readonly table: string;

  constructor(db: Kysely<MasterDatabase>, spec: TableSpec<T>) {
    this.db = db;
    this.spec = spec;
    this.untyped = db as unknown as Kysely<any>;
    this.table = spec.table;
  }

  async get(id: string): Promise<Row<T>> {
    return this.getWhere({ id });
  }

  /** Deletes the row; a row others still refer to (ON DELETE RESTRICT) is a 'conflict'. */
  async delete(id: string): Promise<void> {
    const result = await translated('delete', { entity: this.spec.entity, id }, () =>
      this.untyped.deleteFrom(this.table).where('id', '=', id).executeTakeFirst());
    if (Number(result.numDeletedRows) === 0) throw this.notFound({ id });
  }

  /** `id`: for a row whose id is chosen first (an API token's id is part of its text). */
  protected async insert(values: Record<string, unknown>, id: string = randomUUID()): Promise<Row<T>> {
    const at = now();
    const stamps = this.spec.stamps === 'versioned' ? { created_at: at, updated_at: at, version: 1 }
      : this.spec.stamps === 'created' ? { created_at: at } : {};
    // Identity and bookkeeping last, so that a caller's object with stray fields cannot set them.
    const row = { ...values, id, ...stamps };
    return translated('insert', { entity: this.spec.entity }, () =>
      this.untyped.insertInto(this.table).values(row).returningAll().executeTakeFirstOrThrow()) as Promise<Row<T>>;
  }

  protected async findWhere(where: Filter): Promise<Row<T> | undefined> {
    return translated('query', { entity: this.spec.entity }, () =>
      this.filtered(this.untyped.selectFrom(this.table).selectAll(), where).executeTakeFirst()) as Promise<Row<T> | undefined>;
  }

  /** Like findWhere, but a missing row is a 'not-found' naming the key asked for. */
  protected async getWhere(where: Filter): Promise<Row<T>> {
    const row = await this.findWhere(where);
    if (!row) throw this.notFound(where);
    return row;
  }

  protected async listWhere(where: Filter, page: PageRequest = {}): Promise<Page<Row<T>>> {
    const limit = pageLimit(page.limit);
    const key = this.spec.sortKey;
    let query = this.filtered(this.untyped.selectFrom(this.table).selectAll(), where);
    if (page.cursor) {
      const [value, id] = decodeCursor(page.cursor);
      query = query.where((eb: any) => eb.or([eb(key, '>', value), eb.and([eb(key, '=', value), eb('id', '>', id)])]));
    }
    const rows = await translated('query', { entity: this.spec.entity }, () =>
      query.orderBy(key).orderBy('id').limit(limit + 1).execute()) as Row<T>[];
    return toPage(rows, limit, (row) => {
      const r = row as Record<string, unknown>;
      return [r[key] as string, r['id'] as string];
    });
  }

  /** Sets columns without a version check, for bookkeeping (a token's last use, a revocation). */
  protected async set(id: string, changes: Record<string, unknown>): Promise<Row<T>> {
    const row = await translated('update', { entity: this.spec.entity, id }, () =>
      this.untyped.updateTable(this.table).set(changes).where('id', '=', id).returningAll().executeTakeFirst());
    if (!row) throw this.notFound({ id });
    return row as Row<T>;
  }

  protected notFound(key: Filter): StoreError {
    const what = Object.entries(key).map(([column, value]) => `${column} ${JSON.stringify(value)}`).join(' and ');
    return new StoreError('not-found', `no ${this.spec.entity} with ${what}`, { entity: this.spec.entity, ...key });
  }

  private filtered<Q extends { where: (...args: any[]) => Q }>(query: Q, where: Filter): Q {
    for (const [column, value] of Object.entries(where)) {
      if (value === undefined) continue;
      query = value === null ? query.where(column, 'is', null) : query.where(column, '=', value);
    }
    return query;
  }
}

/** Columns an update may never set: the row's identity and its bookkeeping. */
const FIXED = new Set(['id', 'version', 'created_at', 'updated_at']);

export class VersionedRepository<T extends TableName, C extends object> extends TableRepository<T> {
  /**
   * Applies `changes` if the row is still at `expectedVersion` (the ETag the client saw), and
   * bumps `version` and `updated_at`. A row changed meanwhile is a 'version-conflict'.
   */
  async update(id: string, expectedVersion: number, changes: C): Promise<Row<T>> {
    const values: Record<string, unknown> = {};
    for (const [column, value] of Object.entries(changes)) {
      if (value !== undefined && !FIXED.has(column)) values[column] = value;
    }
    const row = await translated('update', { entity: this.spec.entity, id }, () =>
      this.untyped.updateTable(this.table)
        .set({ ...values, version: expectedVersion + 1, updated_at: now() })
        .where('id', '=', id).where('version', '=', expectedVersion)
        .returningAll().executeTakeFirst());
    if (row) return row as Row<T>;
    const current = await this.findWhere({ id }) as { version: number } | undefined;
    if (!current) throw this.notFound({ id });
    throw new StoreError('version-conflict',
      `the ${this.spec.entity} was changed meanwhile (version ${current.version}, not ${expectedVersion}); read it again and retry`,
      { entity: this.spec.entity, id, expectedVersion, actualVersion: current.version });
  }
}
