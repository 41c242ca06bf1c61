// Disks the agent makes for its VMs: thin qcow2 virtual LUNs carved from one physical LUN in
// DIR/luns, named after the VM. Images a definition names by path are the user's and are never
// created or deleted here.

import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { LunError } from '../storage/lun/lun-error.js';
import { lunFileName } from '../storage/lun/lun-manifest.js';
import { PhysicalLun, type PhysicalLunUsage } from '../storage/lun/physical-lun.js';
import { HostError } from './host-error.js';
import type { DiskRequest, DiskSpec } from './vm-definition.js';

/** Thin disks may promise this many times the space the physical LUN has. */
const OVERCOMMIT = 4;

export class AgentDisks {
  private constructor(private readonly lun: PhysicalLun) {}

  /** Opens DIR/luns, or creates it with `capacityBytes` (default: the free space of its file system). */
  static async open(dataDir: string, capacityBytes?: number): Promise<AgentDisks> {
    const dir = join(dataDir, 'luns');
    try {
      return new AgentDisks(await PhysicalLun.open(dir));
    } catch (e) {
      if (!(e instanceof LunError) || e.kind !== 'not-found') throw asHostError(e, 'open the physical LUN');
    }
    const space = await statfs(dataDir);
    const capacity = capacityBytes ?? Math.max(1024 * 1024 * 1024, Math.floor((space.bavail * space.bsize) / 512) * 512);
    try {
      return new AgentDisks(await PhysicalLun.create(dir, { capacityBytes: capacity, overcommitRatio: OVERCOMMIT }));
    } catch (e) {
      throw asHostError(e, 'create the physical LUN');
    }
  }

  usage(): PhysicalLunUsage {
    return this.lun.usage();
  }

  /** The disks of a new VM: requested sizes become new LUNs (removed again if a later one fails). */
  async provision(vmName: string, requests: readonly DiskRequest[]): Promise<DiskSpec[]> {
    const created: string[] = [];
    try {
      const disks: DiskSpec[] = [];
      for (const [i, request] of requests.entries()) {
        const base = { readOnly: request.readOnly === true, limits: request.limits ?? {} };
        if (request.path !== undefined) {
          disks.push({ ...base, path: request.path, ...(request.format ? { format: request.format } : {}) });
          continue;
        }
        const name = `${vmName}-disk${i}`;
        await this.lun.createLun(name, { size: request.sizeMiB! * 1024 * 1024 });
        created.push(name);
        disks.push({ ...base, path: join(this.lun.dir, lunFileName(name)), lun: name, format: 'qcow2' });
      }
      return disks;
    } catch (e) {
      for (const name of created) await this.lun.deleteLun(name).catch(() => {});
      throw asHostError(e, `create the disks of VM ${vmName}`);
    }
  }

  /** Deletes the LUNs the agent made for these disks. */
  async remove(disks: readonly DiskSpec[]): Promise<void> {
    for (const disk of disks) {
      if (disk.lun === undefined) continue;
      try {
        await this.lun.deleteLun(disk.lun);
      } catch (e) {
        if (!(e instanceof LunError && e.kind === 'not-found')) throw asHostError(e, `delete virtual LUN ${disk.lun}`);
      }
    }
  }
}

function asHostError(e: unknown, what: string): HostError {
  if (e instanceof HostError) return e;
  const kind = e instanceof LunError && (e.kind === 'no-space' || e.kind === 'overcommit') ? 'over-budget' : e instanceof LunError && e.kind === 'exists' ? 'exists' : 'io';
  return new HostError(kind, `cannot ${what}: ${(e as Error).message}`, {}, { cause: e });
}
