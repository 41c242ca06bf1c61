// What every request of the master's API can reach: the master's services, set once per app,
// and the caller, set by authentication.

import type { Caller } from './caller.js';
import type { MasterServices } from '../master-services.js';

export interface MasterEnv {
  Variables: {
    master: MasterServices;
    caller: Caller | undefined;
  };
}
