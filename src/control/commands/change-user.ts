// Changing and deleting a user, by an administrator: disabling or enabling them, setting a new
// password (which also lifts a lockout). Either ends the user's sessions, so the change holds
// at once. Nobody disables or deletes themselves: a master must keep someone who can log in.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import type { MasterServices } from '../master-services.js';
import { hashPassword } from '../security/password-hash.js';
import type { User, UserChanges } from '../store/users.js';
import { checkNewPassword } from './create-user.js';
import { recordChange } from './record-change.js';
import { userScope } from './user-scope.js';

export interface UserChangeRequest {
  disabled?: boolean | undefined;
  password?: string | undefined;
}

export async function changeUser(master: MasterServices, caller: Caller, id: string, expectedVersion: number, request: UserChangeRequest): Promise<User> {
  if (request.disabled === true && id === caller.userId) throw new MasterApiError('conflict', 'you cannot disable yourself; another administrator can');
  if (request.password !== undefined) checkNewPassword(request.password);
  const changes: UserChanges = {};
  if (request.disabled !== undefined) changes.disabled = request.disabled ? 1 : 0;
  if (request.password !== undefined) Object.assign(changes, { password_hash: await hashPassword(request.password, master.passwordHash), failed_logins: 0, locked_until: null });
  return recordChange(master, caller, {
    action: 'user.update', resource: 'user',
    apply: async (repos) => {
      const user = await repos.users.update(id, expectedVersion, changes);
      if (request.disabled === true || request.password !== undefined) await repos.sessions.revokeAllForUser(id, new Date(master.clock.now()).toISOString());
      return { result: user, id, scope: userScope(user), detail: { name: user.name, ...(request.disabled === undefined ? {} : { disabled: request.disabled }), ...(request.password === undefined ? {} : { passwordChanged: true }) } };
    },
  });
}

export async function deleteUser(master: MasterServices, caller: Caller, id: string, expectedVersion: number | null): Promise<void> {
  if (id === caller.userId) throw new MasterApiError('conflict', 'you cannot delete yourself; another administrator can');
  await recordChange(master, caller, {
    action: 'user.delete', resource: 'user',
    apply: async (repos) => {
      const user = await repos.users.get(id);
      if (expectedVersion !== null && user.version !== expectedVersion) await repos.users.update(id, expectedVersion, {});
      await repos.users.delete(id);
      return { result: null, id, scope: userScope(user), detail: { name: user.name } };
    },
  });
}
