// The first schema: every table of tables.ts. The SQL differs by dialect only where it must
// (the audit log's sequence, text collation), so the same queries behave the same on both.
//
// ON DELETE, chosen per reference:
// - RESTRICT where a row carries resources (a data center with hosts, a tenant with VMs, a
//   host with physical LUNs): nothing goes away as a side effect; the API empties it first.
// - CASCADE where the child means nothing alone (a user's role bindings, recovery codes,
//   tokens and sessions).
// - SET NULL where the child outlives the link: a VM whose host is removed stays, unplaced
//   (never silently lost); a virtual LUN whose VM is deleted stays, detached; an operation
//   keeps its history when its user goes.
// The audit log has no references at all: it must outlive everything it mentions.

import { sql, type Kysely, type Migration, type CreateTableBuilder, type Expression } from 'kysely';
import type { StoreDialect } from '../store-dialect.js';

type Builder = CreateTableBuilder<string, never>;

export function initialMigration(dialect: StoreDialect): Migration {
  // PostgreSQL compares text by the database's locale; "C" makes names and times sort byte by
  // byte, as SQLite does, so keyset pages and uniqueness agree on both.
  const text: Expression<unknown> | 'text' = dialect === 'postgres' ? sql`text collate "C"` : 'text';

  const id = (t: Builder): Builder => t.addColumn('id', text, (c) => c.primaryKey());
  const stamps = (t: Builder): Builder => t
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('updated_at', text, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1));
  const ref = (t: Builder, column: string, target: string, onDelete: 'restrict' | 'cascade' | 'set null', nullable = false): Builder =>
    t.addColumn(column, text, (c) => {
      const r = c.references(`${target}.id`).onDelete(onDelete);
      return nullable ? r : r.notNull();
    });

  return {
    async up(db: Kysely<any>): Promise<void> {
      const table = (name: string): Builder => db.schema.createTable(name) as unknown as Builder;
      const index = (name: string, on: string, columns: string[], unique = false) => {
        const b = db.schema.createIndex(name).on(on).columns(columns);
        return (unique ? b.unique() : b).execute();
      };

      await stamps(id(table('data_centers'))
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('description', text, (c) => c.notNull().defaultTo(''))).execute();
      await index('data_centers_name', 'data_centers', ['name'], true);

      await stamps(id(table('tenants'))
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('description', text, (c) => c.notNull().defaultTo(''))).execute();
      await index('tenants_name', 'tenants', ['name'], true);

      await stamps(ref(id(table('users')).addColumn('name', text, (c) => c.notNull()), 'tenant_id', 'tenants', 'restrict', true)
        .addColumn('password_hash', text, (c) => c.notNull())
        .addColumn('totp_secret_sealed', text)
        .addColumn('totp_last_step', 'bigint')
        .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', text)
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))).execute();
      await index('users_name', 'users', ['name'], true);
      await index('users_tenant', 'users', ['tenant_id', 'name']);

      await ref(id(table('role_bindings')), 'user_id', 'users', 'cascade')
        .addColumn('role', text, (c) => c.notNull())
        .addColumn('scope_kind', text, (c) => c.notNull())
        // A data center's or tenant's id; no reference, as it points at either table.
        .addColumn('scope_id', text)
        .addColumn('created_at', text, (c) => c.notNull()).execute();
      await index('role_bindings_user', 'role_bindings', ['user_id']);
      await index('role_bindings_scope', 'role_bindings', ['scope_kind', 'scope_id']);

      await ref(id(table('recovery_codes')), 'user_id', 'users', 'cascade')
        .addColumn('code_hash', text, (c) => c.notNull())
        .addColumn('used_at', text).execute();
      await index('recovery_codes_user', 'recovery_codes', ['user_id', 'code_hash'], true);

      await ref(id(table('api_tokens')), 'user_id', 'users', 'cascade')
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('token_hash', text, (c) => c.notNull())
        .addColumn('scopes', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .addColumn('revoked_at', text)
        .addColumn('last_used_at', text).execute();
      await index('api_tokens_hash', 'api_tokens', ['token_hash'], true);
      await index('api_tokens_user', 'api_tokens', ['user_id', 'created_at']);

      await ref(id(table('sessions')), 'user_id', 'users', 'cascade')
        .addColumn('token_hash', text, (c) => c.notNull())
        .addColumn('csrf_hash', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .addColumn('last_seen_at', text, (c) => c.notNull())
        .addColumn('revoked_at', text).execute();
      await index('sessions_hash', 'sessions', ['token_hash'], true);
      await index('sessions_user', 'sessions', ['user_id', 'created_at']);
      await index('sessions_expires', 'sessions', ['expires_at']);

      await stamps(ref(id(table('hosts')), 'data_center_id', 'data_centers', 'restrict')
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('url', text, (c) => c.notNull())
        .addColumn('token_sealed', text, (c) => c.notNull())
        .addColumn('state', text, (c) => c.notNull())
        .addColumn('state_reason', text, (c) => c.notNull().defaultTo(''))
        .addColumn('cpus', 'integer', (c) => c.notNull())
        .addColumn('memory_mib', 'bigint', (c) => c.notNull())
        .addColumn('storage_bytes', 'bigint', (c) => c.notNull())
        .addColumn('last_report', text, (c) => c.notNull().defaultTo('{}'))
        .addColumn('last_heartbeat_at', text)).execute();
      await index('hosts_name', 'hosts', ['name'], true);
      await index('hosts_data_center', 'hosts', ['data_center_id', 'name']);

      await stamps(ref(ref(id(table('physical_luns')), 'data_center_id', 'data_centers', 'restrict'), 'host_id', 'hosts', 'restrict')
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('path', text, (c) => c.notNull())
        .addColumn('capacity_bytes', 'bigint', (c) => c.notNull())).execute();
      await index('physical_luns_host_name', 'physical_luns', ['host_id', 'name'], true);
      await index('physical_luns_data_center', 'physical_luns', ['data_center_id']);

      await stamps(ref(ref(id(table('networks')), 'tenant_id', 'tenants', 'restrict'), 'data_center_id', 'data_centers', 'restrict')
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('kind', text, (c) => c.notNull())).execute();
      await index('networks_tenant_name', 'networks', ['tenant_id', 'name'], true);
      await index('networks_data_center', 'networks', ['data_center_id']);

      await stamps(ref(ref(ref(id(table('virtual_machines')), 'tenant_id', 'tenants', 'restrict'), 'data_center_id', 'data_centers', 'restrict'),
        'host_id', 'hosts', 'set null', true)
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('cpus', 'integer', (c) => c.notNull())
        .addColumn('memory_mib', 'bigint', (c) => c.notNull())
        .addColumn('state', text, (c) => c.notNull())
        .addColumn('state_reason', text, (c) => c.notNull().defaultTo(''))
        .addColumn('spec', text, (c) => c.notNull())).execute();
      await index('virtual_machines_tenant_name', 'virtual_machines', ['tenant_id', 'name'], true);
      await index('virtual_machines_name', 'virtual_machines', ['name', 'id']);
      await index('virtual_machines_host', 'virtual_machines', ['host_id']);
      await index('virtual_machines_data_center', 'virtual_machines', ['data_center_id']);
      await index('virtual_machines_state', 'virtual_machines', ['state']);

      await stamps(ref(ref(ref(id(table('virtual_luns')), 'tenant_id', 'tenants', 'restrict'), 'physical_lun_id', 'physical_luns', 'restrict'),
        'vm_id', 'virtual_machines', 'set null', true)
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())).execute();
      await index('virtual_luns_tenant_name', 'virtual_luns', ['tenant_id', 'name'], true);
      await index('virtual_luns_physical', 'virtual_luns', ['physical_lun_id']);
      await index('virtual_luns_vm', 'virtual_luns', ['vm_id']);

      await stamps(ref(id(table('operations')), 'user_id', 'users', 'set null', true)
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('target_kind', text, (c) => c.notNull())
        .addColumn('target_id', text, (c) => c.notNull())
        .addColumn('state', text, (c) => c.notNull())
        .addColumn('progress', 'double precision', (c) => c.notNull().defaultTo(0))
        .addColumn('message', text, (c) => c.notNull().defaultTo(''))
        .addColumn('error', text)
        .addColumn('finished_at', text)).execute();
      await index('operations_target', 'operations', ['target_kind', 'target_id']);
      await index('operations_created', 'operations', ['created_at', 'id']);
      await index('operations_state', 'operations', ['state']);

      // appendAudit takes seq from audit_head inside its transaction, so a rolled back append
      // leaves no gap (a PostgreSQL sequence would); the column still counts up by itself.
      await table('audit_log')
        .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) => dialect === 'postgres'
          ? c.primaryKey().generatedByDefaultAsIdentity()
          : c.primaryKey().autoIncrement())
        .addColumn('at', text, (c) => c.notNull())
        .addColumn('actor_id', text)
        .addColumn('actor_name', text, (c) => c.notNull())
        .addColumn('action', text, (c) => c.notNull())
        .addColumn('target', text, (c) => c.notNull())
        .addColumn('outcome', text, (c) => c.notNull())
        .addColumn('source_ip', text, (c) => c.notNull())
        .addColumn('detail', text, (c) => c.notNull())
        .addColumn('prev_hash', text, (c) => c.notNull())
        .addColumn('hash', text, (c) => c.notNull()).execute();
      await index('audit_log_actor', 'audit_log', ['actor_name', 'seq']);
      await index('audit_log_action', 'audit_log', ['action', 'seq']);

      await table('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', text, (c) => c.notNull()).execute();
      await db.insertInto('audit_head').values({ id: 1, seq: 0, hash: '0'.repeat(64) }).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const name of ['audit_head', 'audit_log', 'operations', 'virtual_luns', 'virtual_machines', 'networks', 'physical_luns', 'hosts',
        'sessions', 'api_tokens', 'recovery_codes', 'role_bindings', 'users', 'tenants', 'data_centers']) {
        await db.schema.dropTable(name).execute();
      }
    },
  };
}
