// A second factor handed out by the master: a new TOTP secret sealed onto the user and new
// recovery codes, shown once. Administrators get one when they become administrators, as they
// may not log in without it.

import { encodeBase32 } from '../security/base32.js';
import { generateRecoveryCodes } from '../security/recovery-codes.js';
import { seal } from '../security/secret-box.js';
import { generateTotpSecret, otpauthUri } from '../security/totp.js';
import type { Repositories } from '../store/repositories.js';
import type { User } from '../store/users.js';
import { totpAssociatedData } from './log-in.js';

/** The issuer authenticator apps show beside the account. */
export const TOTP_ISSUER = 'Vireo';

export interface IssuedTotp {
  totpSecret: string;
  otpauthUri: string;
  recoveryCodes: string[];
}

/** Run inside the transaction that creates the user or grants the role. */
export async function issueTotp(key: Buffer, repos: Repositories, user: User): Promise<IssuedTotp> {
  const secret = generateTotpSecret();
  const recovery = generateRecoveryCodes();
  const fresh = await repos.users.get(user.id);
  await repos.users.update(user.id, fresh.version, { totp_secret_sealed: seal(key, secret, totpAssociatedData(user.id)), totp_pending_sealed: null, totp_last_step: null });
  await repos.recoveryCodes.replaceAll(user.id, recovery.hashes);
  return { totpSecret: encodeBase32(secret), otpauthUri: otpauthUri(secret, user.name, TOTP_ISSUER), recoveryCodes: recovery.codes };
}
