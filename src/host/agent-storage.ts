// The agent's storage: physical LUNs carved into thin virtual LUNs ("volumes"). `default` is the
// agent's own, DIR/luns, where it makes the new disks of VMs; others are added through the API
// and listed in DIR/physical-luns.json. A volume is attached to one VM definition at most.
// Images a definition names by path are the user's and are never created or deleted here.

import { join } from 'node:path';
import { lunFileName } from '../storage/lun/lun-manifest.js';
import { PhysicalLun, type PhysicalLunUsage, type VirtualLunInfo } from '../storage/lun/physical-lun.js';
import { SerialQueue } from '../storage/qcow2/serial-queue.js';
import { HostError } from './host-error.js';
import { checkNewLunPath, openOrCreateLun, storageError } from './lun-directory.js';
import { readLunList, writeLunList, type LunListEntry } from './lun-list-file.js';
import type { DiskRequest, DiskSpec, VmDefinition } from './vm-definition.js';

/** The name of the agent's own physical LUN, DIR/luns. */
export const DEFAULT_LUN = 'default';
const LIST_FILE = 'physical-luns.json';
const MiB = 1024 * 1024;
/** Who holds a volume while it is being deleted. */
const DELETING = '(being deleted)';

export interface PhysicalLunView {
  name: string;
  path: string;
  usage: PhysicalLunUsage;
  /** How many virtual LUNs it has. */
  volumes: number;
}

export interface VolumeView {
  name: string;
  lun: string;
  /** The qcow2 image. */
  path: string;
  /** The size the guest sees. */
  sizeBytes: number;
  /** What the image takes on the host. */
  allocatedBytes: number;
  /** The VM definition it is attached to, or null. */
  usedBy: string | null;
}

export interface AddLunRequest {
  name: string;
  path: string;
  capacityBytes?: number;
  overcommitRatio?: number;
}

export interface AgentStorageOptions {
  dataDir: string;
  /** Capacity of DIR/luns when it is first made (default: the free space of its file system). */
  capacityBytes?: number;
  /** The VM definitions, which tell what uses each volume. */
  definitions: () => Iterable<VmDefinition>;
  log: (line: string) => void;
}

export class AgentStorage {
  private readonly luns = new Map<string, PhysicalLun>();
  /** Listed but not openable when the agent started: kept in the list, their names and paths taken. */
  private readonly unavailable = new Map<string, string>();
  /** Volumes held by a define in progress (the VM's name) or a deletion, by `lun/name`. */
  private readonly claims = new Map<string, string>();
  /** Adding and removing LUNs and volumes, one after another. */
  private readonly queue = new SerialQueue();

  private constructor(private readonly options: AgentStorageOptions, defaultLun: PhysicalLun) {
    this.luns.set(DEFAULT_LUN, defaultLun);
  }

  /** Opens DIR/luns (made if missing) and the LUNs in the list; one that cannot be opened is reported and kept aside. */
  static async open(options: AgentStorageOptions): Promise<AgentStorage> {
    const storage = new AgentStorage(options, await openOrCreateLun(join(options.dataDir, 'luns'), { capacityBytes: options.capacityBytes }));
    for (const entry of await readLunList(storage.listPath)) {
      try {
        // Opened only, never made anew: a directory gone missing (an unmounted disk) stays missing.
        storage.luns.set(entry.name, await PhysicalLun.open(entry.path));
      } catch (e) {
        options.log(`physical LUN ${entry.name} (${entry.path}) is unavailable: ${(e as Error).message}; make it reachable and restart the agent, or forget it with DELETE /luns/${entry.name}`);
        storage.unavailable.set(entry.name, entry.path);
      }
    }
    return storage;
  }

  /** The default LUN's usage (the host's storage as GET /host reports it). */
  usage(): PhysicalLunUsage {
    return this.lun(DEFAULT_LUN).usage();
  }

  listLuns(): PhysicalLunView[] {
    return [...this.luns.keys()].sort().map((name) => this.getLun(name));
  }

  getLun(name: string): PhysicalLunView {
    const lun = this.lun(name);
    return { name, path: lun.dir, usage: lun.usage(), volumes: lun.list().length };
  }

  /** Adopts the physical LUN in `request.path`, or makes one there. */
  addLun(request: AddLunRequest): Promise<PhysicalLunView> {
    return this.queue.run(async () => {
      const { name } = request;
      if (name === DEFAULT_LUN) throw new HostError('exists', `"${DEFAULT_LUN}" is the agent's own physical LUN (DIR/luns); choose another name`, { lun: name });
      if (this.luns.has(name) || this.unavailable.has(name)) throw new HostError('exists', `this agent already has a physical LUN named ${name}`, { lun: name });
      const dir = await checkNewLunPath(this.options.dataDir, request.path, this.entries(true));
      // The directory may be adopted with its volumes, so the list must not miss it afterwards.
      const lun = await openOrCreateLun(dir, { capacityBytes: request.capacityBytes, overcommitRatio: request.overcommitRatio });
      this.luns.set(name, lun);
      try {
        await writeLunList(this.listPath, this.entries(false));
      } catch (e) {
        this.luns.delete(name);
        throw e;
      }
      this.options.log(`physical LUN ${name}: ${dir} added`);
      return this.getLun(name);
    });
  }

  /** Forgets a physical LUN without volumes; its directory and manifest stay, to be added again. */
  removeLun(name: string): Promise<void> {
    return this.queue.run(async () => {
      if (name === DEFAULT_LUN) throw new HostError('invalid-state', `the agent's own physical LUN "${DEFAULT_LUN}" cannot be removed`, { lun: name });
      // Checked apart from the volumes: a LUN that could not be opened has none to show.
      const users = [...this.options.definitions()].filter((d) => d.spec.disks.some((disk) => disk.volume?.lun === name)).map((d) => d.name);
      if (users.length > 0) throw new HostError('invalid-state', `VM ${users.join(', ')} attaches volumes of physical LUN ${name}; delete ${users.length === 1 ? 'it' : 'them'} first`, { lun: name });
      if (this.unavailable.delete(name)) {
        await writeLunList(this.listPath, this.entries(false));
        return;
      }
      const lun = this.lun(name);
      const volumes = lun.list().map((v) => v.name);
      if (volumes.length > 0) throw new HostError('invalid-state', `physical LUN ${name} still has volumes (${volumes.join(', ')}); delete them first`, { lun: name });
      this.luns.delete(name);
      try {
        await writeLunList(this.listPath, this.entries(false));
      } catch (e) {
        this.luns.set(name, lun);
        throw e;
      }
      this.options.log(`physical LUN ${name}: forgotten (${lun.dir} stays)`);
    });
  }

  listVolumes(lunName: string): VolumeView[] {
    const lun = this.lun(lunName);
    return lun.list().sort((a, b) => a.name.localeCompare(b.name)).map((info) => this.volumeView(lunName, lun, info));
  }

  getVolume(lunName: string, name: string): VolumeView {
    const lun = this.lun(lunName);
    return this.volumeView(lunName, lun, this.volumeInfo(lunName, lun, name));
  }

  createVolume(lunName: string, volume: { name: string; sizeMiB: number }): Promise<VolumeView> {
    return this.queue.run(async () => {
      const lun = this.lun(lunName);
      try {
        return this.volumeView(lunName, lun, await lun.createLun(volume.name, { size: volume.sizeMiB * MiB }));
      } catch (e) {
        throw storageError(e, `create volume ${volume.name} on physical LUN ${lunName}`);
      }
    });
  }

  /** Deletes a volume and its image; refused while a VM definition uses it. */
  deleteVolume(lunName: string, name: string): Promise<void> {
    return this.queue.run(async () => {
      const lun = this.lun(lunName);
      this.volumeInfo(lunName, lun, name);
      const key = volumeKey(lunName, name);
      const user = this.usedBy(lunName, name);
      if (user !== null) throw new HostError('invalid-state', `volume ${name} of physical LUN ${lunName} is attached to VM ${user}; delete that VM first`, { lun: lunName, volume: name, vm: user });
      this.claims.set(key, DELETING);
      try {
        await lun.deleteLun(name);
      } catch (e) {
        throw storageError(e, `delete volume ${name} of physical LUN ${lunName}`);
      } finally {
        this.claims.delete(key);
      }
    });
  }

  /**
   * The disks of new VM `vmName`: volumes are attached (held for it until `release`), requested
   * sizes become new virtual LUNs on `default` (removed again if a later one fails).
   */
  async provision(vmName: string, requests: readonly DiskRequest[]): Promise<DiskSpec[]> {
    // Volumes are taken before anything waits, so two defines cannot both take one.
    const attached = requests.map((request, i) => (request.volume === undefined ? null : this.attach(vmName, i, request)));
    const created: string[] = [];
    const lun = this.lun(DEFAULT_LUN);
    try {
      const disks: DiskSpec[] = [];
      for (const [i, request] of requests.entries()) {
        const base = { readOnly: request.readOnly === true, limits: request.limits ?? {} };
        if (attached[i]) {
          disks.push({ ...base, ...attached[i] });
        } else if (request.path !== undefined) {
          disks.push({ ...base, path: request.path, ...(request.format ? { format: request.format } : {}) });
        } else {
          const name = `${vmName}-disk${i}`;
          await lun.createLun(name, { size: request.sizeMiB! * MiB });
          created.push(name);
          disks.push({ ...base, path: join(lun.dir, lunFileName(name)), lun: name, format: 'qcow2' });
        }
      }
      return disks;
    } catch (e) {
      for (const name of created) await lun.deleteLun(name).catch(() => {});
      throw storageError(e, `create the disks of VM ${vmName}`);
    }
  }

  /** Lets go of the volumes `provision` held for `vmName` (its definition names them now, or it failed). */
  release(vmName: string): void {
    for (const [key, holder] of this.claims) if (holder === vmName) this.claims.delete(key);
  }

  /** Deletes the virtual LUNs the agent made for these disks; attached volumes and images given by path stay. */
  async remove(disks: readonly DiskSpec[]): Promise<void> {
    const lun = this.lun(DEFAULT_LUN);
    for (const disk of disks) {
      if (disk.lun === undefined) continue;
      try {
        await lun.deleteLun(disk.lun);
      } catch (e) {
        const error = storageError(e, `delete virtual LUN ${disk.lun}`);
        if (error.kind !== 'not-found') throw error;
      }
    }
  }

  /** The VM definition that uses the volume (attached, or made for it on `default`), or who holds it now. */
  usedBy(lunName: string, name: string): string | null {
    for (const definition of this.options.definitions()) {
      for (const disk of definition.spec.disks) {
        if ((disk.volume?.lun === lunName && disk.volume.name === name) || (lunName === DEFAULT_LUN && disk.lun === name)) return definition.name;
      }
    }
    return this.claims.get(volumeKey(lunName, name)) ?? null;
  }

  private attach(vmName: string, index: number, request: DiskRequest): Pick<DiskSpec, 'path' | 'format' | 'volume'> {
    const { lun: lunName, name } = request.volume!;
    const lun = this.lun(lunName);
    this.volumeInfo(lunName, lun, name);
    const user = this.usedBy(lunName, name);
    if (user === vmName) throw new HostError('invalid-definition', `body.spec.disks[${index}]: volume ${name} of physical LUN ${lunName} is attached twice`, { field: `spec.disks[${index}]` });
    if (user !== null) throw new HostError('invalid-state', `volume ${name} of physical LUN ${lunName} is attached to VM ${user}; a volume belongs to one VM at a time`, { lun: lunName, volume: name, vm: user });
    this.claims.set(volumeKey(lunName, name), vmName);
    return { path: join(lun.dir, lunFileName(name)), format: 'qcow2', volume: { lun: lunName, name } };
  }

  private lun(name: string): PhysicalLun {
    const lun = this.luns.get(name);
    if (lun !== undefined) return lun;
    const why = this.unavailable.has(name) ? `physical LUN ${name} (${this.unavailable.get(name)}) could not be opened when the agent started` : `no physical LUN named ${name} on this host`;
    throw new HostError('not-found', `${why}; GET /luns lists them`, { lun: name });
  }

  private volumeInfo(lunName: string, lun: PhysicalLun, name: string): VirtualLunInfo {
    try {
      return lun.get(name);
    } catch (e) {
      // A name no volume can have is simply not there.
      throw new HostError('not-found', `physical LUN ${lunName} has no volume ${name}; GET /luns/${lunName}/volumes lists them`, { lun: lunName, volume: name }, { cause: e });
    }
  }

  private volumeView(lunName: string, lun: PhysicalLun, info: VirtualLunInfo): VolumeView {
    return { name: info.name, lun: lunName, path: join(lun.dir, lunFileName(info.name)), sizeBytes: info.virtualSize, allocatedBytes: info.allocated, usedBy: this.usedBy(lunName, info.name) };
  }

  /** The LUNs to list in the file (the added ones, opened or not), or with `withDefault` every LUN's directory. */
  private entries(withDefault: boolean): LunListEntry[] {
    const opened = [...this.luns].filter(([name]) => withDefault || name !== DEFAULT_LUN).map(([name, lun]) => ({ name, path: lun.dir }));
    return [...opened, ...[...this.unavailable].map(([name, path]) => ({ name, path }))];
  }

  private get listPath(): string {
    return join(this.options.dataDir, LIST_FILE);
  }
}

function volumeKey(lun: string, name: string): string {
  return `${lun}/${name}`;
}
