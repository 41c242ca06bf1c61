// A user's own second factor: enrolment hands out a new secret kept pending, and only a code
// from it makes it the active one (with fresh recovery codes), so a secret that never reached
// an authenticator app cannot lock anyone out. Until then logins use the old one, if any. A user
// who has one proves it with a current code first, so a stolen session cannot replace it.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import type { MasterServices } from '../master-services.js';
import { encodeBase32 } from '../security/base32.js';
import { generateRecoveryCodes } from '../security/recovery-codes.js';
import { open, seal } from '../security/secret-box.js';
import { generateTotpSecret, otpauthUri, verifyTotp } from '../security/totp.js';
import { TOTP_ISSUER } from './issue-totp.js';
import { totpAssociatedData } from './log-in.js';
import { recordChange } from './record-change.js';
import { userScope } from './user-scope.js';

/** Sealed apart from the active secret's associated data, so neither can stand in for the other. */
export function pendingTotpAssociatedData(userId: string): string {
  return `users.totp_pending_sealed:${userId}`;
}

export interface PendingTotp {
  totpSecret: string;
  otpauthUri: string;
}

export async function enrollTotp(master: MasterServices, caller: Caller, currentCode?: string): Promise<PendingTotp> {
  const secret = generateTotpSecret();
  return recordChange(master, caller, {
    action: 'user.totp-enroll', resource: 'user',
    apply: async (repos) => {
      const user = await repos.users.get(caller.userId);
      let lastStep = user.totp_last_step;
      if (user.totp_secret_sealed !== null) {
        if (currentCode === undefined) throw new MasterApiError('forbidden', 'you have a second factor: give a current code from it (currentCode) to replace it', { field: 'currentCode' });
        const result = verifyTotp(open(master.key, user.totp_secret_sealed, totpAssociatedData(user.id)), currentCode, master.clock.now(), user.totp_last_step);
        if (!result.ok) throw new MasterApiError('forbidden', 'the current code does not match your second factor, or was used already', { field: 'currentCode' });
        lastStep = result.step;
      }
      await repos.users.update(user.id, user.version, { totp_pending_sealed: seal(master.key, secret, pendingTotpAssociatedData(user.id)), totp_last_step: lastStep });
      return { result: { totpSecret: encodeBase32(secret), otpauthUri: otpauthUri(secret, user.name, TOTP_ISSUER) }, id: user.id, scope: userScope(user), detail: { name: user.name } };
    },
  });
}

export async function confirmTotp(master: MasterServices, caller: Caller, code: string): Promise<{ recoveryCodes: string[] }> {
  const recovery = generateRecoveryCodes();
  return recordChange(master, caller, {
    action: 'user.totp-confirm', resource: 'user',
    apply: async (repos) => {
      const user = await repos.users.get(caller.userId);
      if (user.totp_pending_sealed === null) throw new MasterApiError('conflict', 'no second factor is waiting for confirmation; enroll first (POST /api/v1/session/totp)');
      const secret = open(master.key, user.totp_pending_sealed, pendingTotpAssociatedData(user.id));
      const result = verifyTotp(secret, code, master.clock.now(), null);
      if (!result.ok) throw new MasterApiError('invalid-request', 'the code does not match the new secret; check the authenticator app and the clock, then try the next code', { field: 'code' });
      await repos.users.update(user.id, user.version, { totp_secret_sealed: seal(master.key, secret, totpAssociatedData(user.id)), totp_pending_sealed: null, totp_last_step: result.step });
      await repos.recoveryCodes.replaceAll(user.id, recovery.hashes);
      return { result: { recoveryCodes: recovery.codes }, id: user.id, scope: userScope(user), detail: { name: user.name } };
    },
  });
}
