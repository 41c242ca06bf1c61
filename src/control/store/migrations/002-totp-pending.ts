// A TOTP secret a user has asked for but not yet confirmed with a code from it: kept apart from
// the active secret, so logins go on using the old one (or none) until the new one is proven.

import type { Kysely, Migration } from 'kysely';

export function totpPendingMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('users').addColumn('totp_pending_sealed', 'text').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('users').dropColumn('totp_pending_sealed').execute();
    },
  };
}
