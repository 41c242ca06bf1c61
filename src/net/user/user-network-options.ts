// The options of user-mode networking as plain data (what a VmDescription carries), parsed
// from the QEMU-like text `user[,hostfwd=...][,guestfwd=...][,dns=...]` and checked when read back.

import { isIP } from 'node:net';

export type ForwardProtocol = 'tcp' | 'udp';

/** Host address:port -> the guest's port: the gateway listens on the host and connects into the guest. */
export interface HostForward {
  protocol: ForwardProtocol;
  hostAddress: string;
  /** 0: any free port (the listener reports the one it got). */
  hostPort: number;
  /** Absent: the guest's leased address. */
  guestAddress?: string;
  guestPort: number;
}

/** The guest's connections to 10.0.2.2:guestPort reach hostAddress:hostPort (which may be loopback). */
export interface GuestForward {
  protocol: ForwardProtocol;
  guestPort: number;
  hostAddress: string;
  hostPort: number;
}

export interface DnsServer {
  address: string;
  port: number;
}

export interface UserNetworkOptions {
  hostForwards: HostForward[];
  guestForwards: GuestForward[];
  /** Resolvers the gateway's DNS at 10.0.2.3 forwards to; absent: the host's (/etc/resolv.conf). */
  dnsServers?: DnsServer[];
}

export class UserNetworkOptionError extends Error {
  readonly kind = 'user-network-option';
}

export const GATEWAY_ADDRESS = '10.0.2.2';

/** Parses the text after `--net `: `user` and comma-separated rules. Throws UserNetworkOptionError. */
export function parseUserNetworkOptions(text: string): UserNetworkOptions {
  const [mode, ...rest] = text.split(',');
  if (mode !== 'user') throw new UserNetworkOptionError(`user networking options start with 'user', got '${mode}'`);
  const options: UserNetworkOptions = { hostForwards: [], guestForwards: [] };
  for (const item of rest) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    if (key === 'hostfwd') options.hostForwards.push(parseHostForward(value));
    else if (key === 'guestfwd') options.guestForwards.push(parseGuestForward(value));
    else if (key === 'dns') (options.dnsServers ??= []).push(parseDnsServer(value));
    else throw new UserNetworkOptionError(`unknown user networking option '${item}'; use hostfwd=, guestfwd= or dns=`);
  }
  const problem = checkUserNetworkOptions(options);
  if (problem !== undefined) throw new UserNetworkOptionError(problem);
  return options;
}

/** `tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT` (QEMU's hostfwd form). */
function parseHostForward(text: string): HostForward {
  const usage = `hostfwd takes tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, got '${text}'`;
  const m = /^(tcp|udp):([^:-]*):(\d+)-([^:-]*):(\d+)$/.exec(text);
  if (!m) throw new UserNetworkOptionError(usage);
  return {
    protocol: m[1] as ForwardProtocol,
    hostAddress: m[2] || '127.0.0.1',
    hostPort: port(m[3]!, 'host port', true),
    ...(m[4] ? { guestAddress: m[4] } : {}),
    guestPort: port(m[5]!, 'guest port', false),
  };
}

/** `tcp:10.0.2.2:GUESTPORT-HOSTADDR:HOSTPORT`. */
function parseGuestForward(text: string): GuestForward {
  const m = /^(tcp|udp):([^:-]+):(\d+)-([^:-]+):(\d+)$/.exec(text);
  if (!m) throw new UserNetworkOptionError(`guestfwd takes tcp|udp:${GATEWAY_ADDRESS}:GUESTPORT-HOSTADDR:HOSTPORT, got '${text}'`);
  if (m[2] !== GATEWAY_ADDRESS) throw new UserNetworkOptionError(`guestfwd forwards connections to the gateway ${GATEWAY_ADDRESS}, not '${m[2]}'`);
  return { protocol: m[1] as ForwardProtocol, guestPort: port(m[3]!, 'guest port', false), hostAddress: m[4]!, hostPort: port(m[5]!, 'host port', false) };
}

/** `ADDR[:PORT]` (port 53 by default). */
function parseDnsServer(text: string): DnsServer {
  const m = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new UserNetworkOptionError(`dns takes an IPv4 ADDRESS[:PORT], got '${text}'`);
  return { address: m[1]!, port: m[2] === undefined ? 53 : port(m[2], 'DNS port', false) };
}

function port(text: string, what: string, zeroAllowed: boolean): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (zeroAllowed ? 0 : 1) || n > 65535) {
    throw new UserNetworkOptionError(`${what} must be ${zeroAllowed ? '0 (any free port) or ' : ''}a number from 1 to 65535, got '${text}'`);
  }
  return n;
}

/** What is wrong with options read from a file (a snapshot's description), or undefined. */
export function checkUserNetworkOptions(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'user networking options are not an object';
  const o = value as Partial<UserNetworkOptions>;
  const isPort = (p: unknown, zero = false) => Number.isInteger(p) && (p as number) >= (zero ? 0 : 1) && (p as number) <= 65535;
  const isProtocol = (p: unknown) => p === 'tcp' || p === 'udp';
  const isV4 = (a: unknown) => typeof a === 'string' && isIP(a) === 4;
  if (!Array.isArray(o.hostForwards) || !Array.isArray(o.guestForwards)) return 'user networking options lack hostForwards or guestForwards';
  for (const f of o.hostForwards as unknown[]) {
    const h = f as Partial<HostForward>;
    if (!isProtocol(h.protocol) || !isV4(h.hostAddress) || !isPort(h.hostPort, true) || !isPort(h.guestPort) || (h.guestAddress !== undefined && !isV4(h.guestAddress))) {
      return `hostfwd ${JSON.stringify(f)} is malformed: it needs tcp|udp, an IPv4 host address, a host port (0 for any) and a guest port`;
    }
  }
  const seen = new Set<string>();
  for (const f of o.guestForwards as unknown[]) {
    const g = f as Partial<GuestForward>;
    if (!isProtocol(g.protocol) || !isPort(g.guestPort) || !isV4(g.hostAddress) || !isPort(g.hostPort)) {
      return `guestfwd ${JSON.stringify(f)} is malformed: it needs tcp|udp, a guest port, an IPv4 host address and a host port`;
    }
    const key = `${g.protocol}:${g.guestPort}`;
    if (seen.has(key)) return `two guestfwd rules claim ${g.protocol} port ${g.guestPort} of ${GATEWAY_ADDRESS}`;
    seen.add(key);
  }
  if (o.dnsServers !== undefined && (!Array.isArray(o.dnsServers) || o.dnsServers.length === 0 || !o.dnsServers.every((d) => isV4(d?.address) && isPort(d?.port)))) {
    return 'dns servers must be IPv4 addresses with ports';
  }
  return undefined;
}
