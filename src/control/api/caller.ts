// Who is calling: the user behind a session cookie or an API token, with the role bindings
// they hold and, for a token, the scopes that narrow them. Set by authentication before any
// handler runs.

import type { Principal } from '../security/permissions.js';

export interface Caller extends Principal {
  userId: string;
  userName: string;
  via: 'session' | 'token';
  sessionId?: string;
  tokenId?: string;
  sourceIp: string;
}
