// The master's tables as Kysely sees them: one interface per table, the same on SQLite and
// PostgreSQL. Ids are UUID strings, times ISO-8601 UTC strings (they sort as text), flags 0/1,
// documents JSON text; `version` counts changes for optimistic concurrency (the API's ETag).

import type { Generated } from 'kysely';

export type Role = 'administrator' | 'operator' | 'tenant-user' | 'auditor';
export type ScopeKind = 'global' | 'data-center' | 'tenant';
export type HostState = 'up' | 'down' | 'maintenance';
export type VmState = 'defined' | 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'crashed' | 'unknown' | 'deleting';
export type OperationState = 'queued' | 'running' | 'succeeded' | 'failed';

/** Data centers and tenants: a unique name and a description, scopes of role bindings. */
export interface ScopeTable {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
  version: number;
}

export type DataCenterTable = ScopeTable;
export type TenantTable = ScopeTable;

/** A person who logs in: an administrator, operator, auditor, or a tenant's `GuestUser`. */
export interface UserTable {
  id: string;
  name: string;
  /** Set for a tenant's users; null for the data centers' staff. */
  tenant_id: string | null;
  password_hash: string;
  /** The TOTP secret, sealed with the master's key; null until enrolled. */
  totp_secret_sealed: string | null;
  /** A new TOTP secret, sealed, waiting for a code from it before it replaces the active one. */
  totp_pending_sealed: string | null;
  /** Last TOTP time step accepted, so a code is never accepted twice (RFC 6238 section 5.2). */
  totp_last_step: number | null;
  failed_logins: number;
  locked_until: string | null;
  disabled: number;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface RoleBindingTable {
  id: string;
  user_id: string;
  role: Role;
  scope_kind: ScopeKind;
  /** The data center's or tenant's id; null for global. */
  scope_id: string | null;
  created_at: string;
}

export interface RecoveryCodeTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: string | null;
}

export interface ApiTokenTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  /** JSON array of scope strings. */
  scopes: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface SessionTable {
  id: string;
  user_id: string;
  token_hash: string;
  csrf_hash: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  revoked_at: string | null;
}

/** A host agent registered with the master. */
export interface HostTable {
  id: string;
  data_center_id: string;
  name: string;
  /** The agent's API: https://HOST:PORT or tcp:HOST:PORT as `vireo host serve --listen` gives it. */
  url: string;
  /** The agent's bearer token, sealed with the master's key. */
  token_sealed: string;
  state: HostState;
  /** Why the state is what it is: the last heartbeat's error, or who set maintenance. */
  state_reason: string;
  cpus: number;
  memory_mib: number;
  storage_bytes: number;
  /** JSON: what the last heartbeat reported (VMs by state, budgets). */
  last_report: string;
  last_heartbeat_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

/** A backing store on a host (a file system directory or a block device) virtual LUNs are carved from. */
export interface PhysicalLunTable {
  id: string;
  data_center_id: string;
  host_id: string;
  name: string;
  path: string;
  capacity_bytes: number;
  created_at: string;
  updated_at: string;
  version: number;
}

/** A thin qcow2 disk carved from a physical LUN, owned by a tenant. */
export interface VirtualLunTable {
  id: string;
  tenant_id: string;
  physical_lun_id: string;
  name: string;
  size_bytes: number;
  /** The VM using it, if any. */
  vm_id: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface NetworkTable {
  id: string;
  tenant_id: string;
  data_center_id: string;
  name: string;
  /** 'switch': the tenant's own L2 segment on each host; 'user': user-mode NAT to the outside. */
  kind: 'switch' | 'user';
  created_at: string;
  updated_at: string;
  version: number;
}

export interface VirtualMachineTable {
  id: string;
  tenant_id: string;
  data_center_id: string;
  /** The host it is placed on; null before placement. */
  host_id: string | null;
  name: string;
  cpus: number;
  memory_mib: number;
  /** What the master last knew; 'unknown' while its host is down. */
  state: VmState;
  state_reason: string;
  /** JSON: disks (virtual LUN ids), NICs (network ids, MACs), limits. */
  spec: string;
  created_at: string;
  updated_at: string;
  version: number;
}

/** A long action (start, stop, snapshot, migrate) the API answers with 202. */
export interface OperationTable {
  id: string;
  kind: string;
  target_kind: string;
  target_id: string;
  user_id: string | null;
  state: OperationState;
  /** 0..1 */
  progress: number;
  message: string;
  /** JSON problem details when failed, else null. */
  error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  version: number;
}

/** Append-only; each entry's hash covers its fields and the previous entry's hash. */
export interface AuditLogTable {
  seq: Generated<number>;
  at: string;
  actor_id: string | null;
  actor_name: string;
  /** e.g. 'login', 'login-failed', 'vm.create', 'user.delete'. */
  action: string;
  target: string;
  outcome: 'success' | 'failure' | 'denied';
  source_ip: string;
  /** JSON text. */
  detail: string;
  prev_hash: string;
  hash: string;
}

/**
 * One row (id 1): the audit log's last seq and hash. Appends update it first, so its row lock
 * (PostgreSQL) or the write transaction (SQLite) puts concurrent appends in one order; and an
 * entry cut off the end of the log no longer matches it.
 */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface MasterDatabase {
  data_centers: DataCenterTable;
  tenants: TenantTable;
  users: UserTable;
  role_bindings: RoleBindingTable;
  recovery_codes: RecoveryCodeTable;
  api_tokens: ApiTokenTable;
  sessions: SessionTable;
  hosts: HostTable;
  physical_luns: PhysicalLunTable;
  virtual_luns: VirtualLunTable;
  networks: NetworkTable;
  virtual_machines: VirtualMachineTable;
  operations: OperationTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}
