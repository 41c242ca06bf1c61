// What the master's front ends share: its state, its key for secrets at rest, its clock, the
// event bus, the policies of logins and sessions, its hosts and its operations. One object, made by `Master`, passed to
// every route.

import type { EventBus } from './api/event-bus.js';
import type { OperationRunner } from './commands/operation-runner.js';
import type { HostFleet } from './hosts/host-fleet.js';
import type { PlacementLock } from './hosts/placement-lock.js';
import type { AddressThrottle } from './security/login-throttle.js';
import type { PasswordHashParams } from './security/password-hash.js';
import type { Store } from './store/open-store.js';

export interface SessionPolicy {
  /** A session ends this long after login, whatever happens. */
  lifetimeMs: number;
  /** And this long after its last request. */
  idleMs: number;
}

export const DEFAULT_SESSION_POLICY: Readonly<SessionPolicy> = Object.freeze({ lifetimeMs: 12 * 3600_000, idleMs: 3600_000 });

export interface MasterServices {
  readonly store: Store;
  /** The key that seals TOTP secrets and agents' tokens in the database. */
  readonly key: Buffer;
  readonly events: EventBus;
  readonly clock: { now(): number };
  readonly loginThrottle: AddressThrottle;
  readonly sessions: SessionPolicy;
  /** The registered hosts' agents and their heartbeats. */
  readonly fleet: HostFleet;
  /** Placements take turns per data center. */
  readonly placements: PlacementLock;
  /** Long actions under way (202 and an operation). */
  readonly operations: OperationRunner;
  /** Directories on the hosts whose files anyone who may create a VM may boot it from. */
  readonly bootDirs: readonly string[];
  /** Argon2id cost for new password hashes (cheaper in tests). */
  readonly passwordHash?: PasswordHashParams;
}
