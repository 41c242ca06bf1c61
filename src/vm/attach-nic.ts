// What a VM's NIC is plugged into: its own switch with the host responder (--net host), or a
// switch shared with other VM processes over a Unix socket (--net switch:PATH).

import type { NetBackend } from '../net/net-backend.js';
import { SwitchClient } from '../net/switch-socket/switch-client.js';
import type { NetworkDescription } from './vm-description.js';

export interface AttachedNic {
  port: NetBackend;
  /** Leaves the shared switch (nothing for a switch of the VM's own). */
  close(): void;
}

export async function attachNic(network: NetworkDescription, ownSwitch: () => NetBackend, log?: (line: string) => void): Promise<AttachedNic> {
  if (network.switch === undefined) return { port: ownSwitch(), close: () => {} };
  const client = await SwitchClient.connect(network.switch, { log: log ?? ((line) => process.stderr.write(`vireo: ${line}\n`)) });
  return { port: client, close: () => client.close() };
}
