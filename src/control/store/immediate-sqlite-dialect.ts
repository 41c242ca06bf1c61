// Kysely's SQLite dialect, but its transactions start with BEGIN IMMEDIATE. A plain BEGIN
// takes the write lock only at the first write; two processes that both read first then both
// write would have one fail with SQLITE_BUSY at once, whatever busy_timeout says. Taking the
// lock up front makes a second writer wait its turn (busy_timeout) instead.
// Within one process Kysely already queues everything on the one connection.

import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
