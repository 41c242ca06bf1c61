// What the user network's protocol handlers need from the gateway: send an IPv4 packet to a
// guest (its MAC found from what the guest sent, or by ARP), and shared counters.

import type { Ipv4Address } from '../ipv4.js';

export interface GatewayLink {
  /** Sends `payload` from `src` to guest address `dst`; false when the guest's MAC is not known yet (an ARP request went out). */
  sendIpv4(src: Ipv4Address, dst: Ipv4Address, protocol: number, payload: Uint8Array): boolean;
  /** A gateway port (49152-65535) free for an outgoing connection or flow of the gateway's own. */
  allocatePort(protocol: 'tcp' | 'udp'): number | undefined;
  releasePort(protocol: 'tcp' | 'udp', port: number): void;
  log(line: string): void;
}
