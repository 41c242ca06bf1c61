// Opens the master's database (SQLite in its data directory, or PostgreSQL) behind one typed
// query builder, and brings its schema to the latest migration before anyone uses it.

import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, type Dialect } from 'kysely';
import { ImmediateSqliteDialect } from './immediate-sqlite-dialect.js';
import { migrationProvider } from './migrations/migration-provider.js';
import { StoreError } from './store-error.js';
import { toStoreError } from './to-store-error.js';
import type { MasterDatabase } from './tables.js';
import type { StoreDialect } from './store-dialect.js';

export type StoreTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface Store {
  readonly db: Kysely<MasterDatabase>;
  readonly dialect: StoreDialect;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Use
   * only `tx` inside: on SQLite `db` waits for the transaction's connection, so it would hang.
   */
  transaction<T>(fn: (tx: Kysely<MasterDatabase>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;
const PG_INT8_OID = 20;

function sqliteDialect(path: string): Dialect {
  let database: Database.Database;
  try {
    database = new Database(path);
  } catch (error) {
    throw new StoreError('unavailable', `cannot open the SQLite database ${path}: ${(error as Error).message}`, { path }, { cause: error });
  }
  // WAL: readers never wait for the writer, and a commit appends to the log instead of
  // rewriting pages. synchronous=NORMAL is safe with WAL: a crash of the master loses
  // nothing committed and a power cut at worst the last commits, never consistency, and
  // commits no longer wait for an fsync each.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  return new ImmediateSqliteDialect({ database });
}

function postgresDialect(url: string): Dialect {
  const pool = new pg.Pool({
    connectionString: url,
    // bigint (int8) comes back as a string by default; byte counts and the audit sequence stay
    // far below 2^53, so numbers they are. Set on this pool only, not pg's global parsers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client whose server went away must not crash the master; the next query reports it.
  pool.on('error', () => {});
  return new PostgresDialect({ pool });
}

export async function openStore(target: StoreTarget): Promise<Store> {
  const dialect: StoreDialect = target.kind;
  const db = new Kysely<MasterDatabase>({ dialect: target.kind === 'sqlite' ? sqliteDialect(target.path) : postgresDialect(target.url) });
  const where = target.kind === 'sqlite' ? target.path : target.url.replace(/\/\/[^@/]*@/, '//');
  try {
    const { error } = await new Migrator({ db, provider: migrationProvider(dialect) }).migrateToLatest();
    if (error) throw error;
  } catch (error) {
    await db.destroy().catch(() => {});
    const mapped = toStoreError(error, 'query', { database: where });
    if (mapped instanceof StoreError) throw mapped;
    throw new StoreError('unavailable', `cannot bring the database ${where} to the latest schema: ${(error as Error).message}`, { database: where }, { cause: error });
  }
  return {
    db,
    dialect,
    async transaction<T>(fn: (tx: Kysely<MasterDatabase>) => Promise<T>): Promise<T> {
      try {
        return await db.transaction().execute(fn);
      } catch (error) {
        throw toStoreError(error, 'query');
      }
    },
    close: () => db.destroy(),
  };
}
