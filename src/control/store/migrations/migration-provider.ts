// The numbered migrations, listed here rather than found on disk at run time, so the compiled
// master carries its schema with it. Add a migration as the next number; never edit a shipped one.

import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../store-dialect.js';
import { initialMigration } from './001-initial.js';
import { totpPendingMigration } from './002-totp-pending.js';

export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '001-initial': initialMigration(dialect),
        '002-totp-pending': totpPendingMigration(),
      };
    },
  };
}
