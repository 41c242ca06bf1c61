// The agent's virtual networks: one switch per network named in the definitions, served on
// DIR/networks/NAME.sock for the VM processes (`vireo run --net switch:PATH`). Each network is
// a switch of its own, so VMs on different networks never see each other's frames.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchServer } from '../net/switch-socket/switch-server.js';
import { HostError } from './host-error.js';

export interface NetworkInfo {
  name: string;
  socket: string;
  /** VM processes joined now. */
  ports: number;
  /** MAC addresses the switch has learned. */
  macs: string[];
}

export class AgentNetworks {
  private readonly servers = new Map<string, Promise<SwitchServer>>();

  constructor(private readonly dir: string, private readonly log: (line: string) => void) {}

  socketPath(name: string): string {
    return join(this.dir, `${name}.sock`);
  }

  /** The switch of network `name`, served from now on if it was not already. */
  async ensure(name: string): Promise<SwitchServer> {
    let server = this.servers.get(name);
    if (server === undefined) {
      server = this.serve(name);
      this.servers.set(name, server);
      // A failed start is tried again by the next VM that needs the network.
      server.catch(() => this.servers.delete(name));
    }
    return server;
  }

  /** Stops serving network `name` (no definition names it any more). */
  async drop(name: string): Promise<void> {
    const server = this.servers.get(name);
    this.servers.delete(name);
    if (server !== undefined) await (await server.catch(() => null))?.close();
  }

  async list(): Promise<NetworkInfo[]> {
    const out: NetworkInfo[] = [];
    for (const [name, pending] of [...this.servers].sort(([a], [b]) => a.localeCompare(b))) {
      const server = await pending.catch(() => null);
      if (server === null) continue;
      out.push({ name, socket: server.path, ports: server.clients.length, macs: server.switch.macTable().map((entry) => String(entry.mac)) });
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((name) => this.drop(name)));
  }

  private async serve(name: string): Promise<SwitchServer> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const server = await SwitchServer.listen(this.socketPath(name), { log: this.log });
      this.log(`network ${name}: serving its switch at ${server.path}`);
      return server;
    } catch (e) {
      throw new HostError('network-failed', `cannot serve network ${name}: ${(e as Error).message}`, { network: name }, { cause: e });
    }
  }
}
