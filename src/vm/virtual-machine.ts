// One VM: a board built from a VmDescription, with its disks, network and shares, and the
// verbs a control API drives: status, pause, resume, save, stop.

import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { Machine, type RunResult } from '../machine/machine.js';
import type { BootFiles } from '../machine/boot-images.js';
import { readBootFiles, type BootRole } from './boot-files.js';
import type { ByteSink } from '../devices/mmio-device.js';
import type { DiskConfig, NicConfig } from '../machine/virtio-devices.js';
import { openDiskImage, type DiskImage } from '../storage/disk-image.js';
import { IoThrottle } from '../storage/qos/io-throttle.js';
import type { IoLimits } from '../storage/qos/io-limits.js';
import { VirtualSwitch } from '../net/virtual-switch.js';
import type { NetBackend } from '../net/net-backend.js';
import { IcmpResponder } from '../net/icmp-responder.js';
import { macAddress, macToBytes } from '../net/mac-address.js';
import { ipv4Address } from '../net/ipv4.js';
import { UserNetwork } from '../net/user/user-network.js';
import type { DiskDescription, VmDescription } from './vm-description.js';
import { sendVm, type MigrationReport } from './migration/send-vm.js';
import type { DiskFacts } from './migration/migration-protocol.js';
import { trackDisk, type TrackedDisk } from './migration/disk-mirror.js';
import { overlayWritableDisks } from './disk-overlays.js';
import { writeSnapshot, type SnapshotReader } from './snapshot/snapshot-file.js';
import { LazyRam } from './lazy-ram.js';
import { INVALID_STATE, NO_GUEST_DRIVER, VmControlError, type MigrationTarget, type OperationProgress, type VmController, type VmRunState, type VmStatus } from './api/vm-controller.js';
import type { CpuStatus, VmResourceController, VmStats } from './api/vm-resources.js';
import { CpuCap } from './cpu-cap.js';
import { IdleMemory } from './idle-memory.js';
import { fullGc } from './full-gc.js';
import { RamDiscard } from '../core/ram-discard.js';
import { attachNic } from './attach-nic.js';

/** The host's address on the switch a VM's NIC attaches to (--net host). */
export const HOST_IP = '10.0.2.2';
export const HOST_MAC = '52:54:00:00:02:02';

/** The bytes a VM boots from, read by the caller from the description's paths. */
export type BootBytes = BootFiles;

interface BootDigests {
  kernel: string;
  firmware?: string;
  initrd?: string;
}

function digestsOf(boot: BootBytes): BootDigests {
  return {
    kernel: sha256(boot.kernel),
    ...(boot.firmware ? { firmware: sha256(boot.firmware) } : {}),
    ...(boot.initrd ? { initrd: sha256(boot.initrd) } : {}),
  };
}

/** The description with the boot files' digests, as snapshots record it and a reset checks it. */
function withDigests(description: VmDescription, digests: BootDigests): VmDescription {
  const { kernel, firmware, initrd } = description.boot;
  return {
    ...description,
    boot: {
      ...description.boot,
      kernel: { ...kernel, sha256: digests.kernel },
      ...(firmware && digests.firmware ? { firmware: { ...firmware, sha256: digests.firmware } } : {}),
      ...(initrd && digests.initrd ? { initrd: { ...initrd, sha256: digests.initrd } } : {}),
    },
  };
}

export interface VmIo {
  /** UART0's output. */
  serial: ByteSink;
  /** virtio-console's output, when the description asks for hvc0. */
  console?: ByteSink;
  log?: (line: string) => void;
  /** One disassembled line per instruction (slow). */
  trace?: (line: string) => void;
  maxInstructions?: number;
  timeoutMs?: number;
}

export interface CreateOptions {
  /** Opens a described disk (default: from its path). */
  openDisk?: (disk: DiskDescription, index: number) => Promise<DiskImage>;
  /** RAM and state come from a snapshot or a migration: nothing is loaded into RAM. */
  emptyRam?: boolean;
  /**
   * Reads a boot file from its path: given, the VM keeps only the files' digests and reads
   * them again (checked against the digests) when the guest resets.
   */
  readBoot?: (role: BootRole, path: string) => Uint8Array;
}

export class VirtualMachine implements VmController, VmResourceController {
  readonly machine: Machine;
  readonly description: VmDescription;
  /** The boot files, unless the VM reads them again at reset (then only their digests). */
  private readonly boot: BootBytes | null;
  private bootDigests: BootDigests | null;
  private readonly disks: DiskImage[];
  private state: VmRunState = 'running';
  private readonly startedMs = performance.now();
  /** Set by a save that left the VM paused: its disks are the snapshot's and must not change. */
  private frozenBy: string | null = null;
  private busy = false;
  /** The gateway of `--net user`, with its host sockets and listeners; null otherwise. */
  userNetwork: UserNetwork | null = null;

  private constructor(machine: Machine, description: VmDescription, boot: BootBytes | BootDigests, disks: DiskImage[], throttles: IoThrottle[], closeNic: () => void) {
    this.machine = machine;
    this.description = description;
    this.boot = boot.kernel instanceof Uint8Array ? boot as BootBytes : null;
    this.bootDigests = this.boot === null ? boot as BootDigests : null;
    this.disks = disks;
    this.throttles = throttles;
    this.closeNic = closeNic;
    // The cap goes up to 100% of one core per hart.
    this.cpuCap = new CpuCap(machine, { harts: description.cpus ?? 1 });
    if (description.cpu) this.cpuCap.set(description.cpu.capPercent);
    this.cpuCap.start();
    this.idleMemory = new IdleMemory({ instructions: () => this.instructionsRetired(), trim: () => this.trimIdleMemory(), idle: () => this.machine.interpretWhileIdle(), busy: () => this.machine.resumeTier() });
    this.idleMemory.start();
  }

  /** Each disk's throttle, in the description's order; always there, so limits can be set at run time. */
  private readonly throttles: IoThrottle[];
  private readonly cpuCap: CpuCap;
  private readonly idleMemory: IdleMemory;
  /** Bytes of zero-filled guest RAM the idle trims gave back to the host. */
  private zeroRamGivenBack = 0;
  private readonly closeNic: () => void;

  /**
   * Opens the disks (with `openDisk`, by default from their paths) and builds the board; on
   * failure closes what was opened.
   */
  static async create(description: VmDescription, boot: BootBytes, io: VmIo, options: CreateOptions = {}): Promise<VirtualMachine> {
    const disks: DiskImage[] = [];
    const configs: DiskConfig[] = [];
    const throttles: IoThrottle[] = [];
    let closeNic = (): void => {};
    const openDisk = options.openDisk ?? openDescribedDisk;
    let userNetwork: UserNetwork | null = null;
    try {
      for (const [index, disk] of description.disks.entries()) {
        const backend = await openDisk(disk, index);
        disks.push(backend);
        const throttle = new IoThrottle(disk.limits);
        throttles.push(throttle);
        configs.push({ backend, serial: disk.serial, throttle });
      }
      const nics: NicConfig[] = [];
      if (description.network) {
        const network = description.network;
        const ownSwitch = (): { port: NetBackend; gateway: UserNetwork | null } => {
          const hub = new VirtualSwitch();
          const port = hub.createPort({ name: 'guest' });
          // The responder or the gateway answers from the switch's delivery callbacks for as long as the VM runs.
          if (network.mode === 'user') return { port, gateway: new UserNetwork(hub, { ...network.user, mac: macAddress(HOST_MAC), ...(io.log ? { log: io.log } : {}) }) };
          new IcmpResponder(hub, { mac: macAddress(HOST_MAC), ip: ipv4Address(HOST_IP), delivery: 'microtask' });
          return { port, gateway: null };
        };
        const own = network.switch === undefined ? ownSwitch() : null;
        userNetwork = own?.gateway ?? null;
        const { port, close } = await attachNic(network, () => own!.port, io.log);
        await userNetwork?.start();
        closeNic = close;
        nics.push({ port, mac: macToBytes(macAddress(description.network.mac)) });
      }
      const { boot: b } = description;
      const digests = options.readBoot ? digestsOf(boot) : null;
      const readBoot = options.readBoot;
      const machine = new Machine({
        kernel: boot.kernel,
        ...(boot.firmware !== undefined ? { firmware: boot.firmware } : {}),
        ...(boot.initrd !== undefined ? { initrd: boot.initrd } : {}),
        ...(b.bootargs !== undefined ? { bootargs: b.bootargs } : {}),
        ramMiB: description.ramMiB,
        ...(description.cpus !== undefined ? { cpus: description.cpus } : {}),
        serial: io.serial,
        virtio: { disks: configs, nics, shares: description.shares, powerButton: description.powerButton ?? true, ...(description.console === 'hvc0' && io.console ? { console: io.console } : {}), balloon: description.balloon === true },
        ...(io.log ? { log: io.log } : {}),
        ...(io.trace ? { trace: io.trace } : {}),
        ...(io.maxInstructions !== undefined ? { maxInstructions: io.maxInstructions } : {}),
        ...(io.timeoutMs !== undefined ? { timeoutMs: io.timeoutMs } : {}),
        translation: description.translation,
        ...(options.emptyRam ? { emptyRam: true } : {}),
        ...(digests && readBoot ? { reloadBootFiles: () => readBootFiles(withDigests(description, digests), readBoot) } : {}),
        ...(description.jitThreshold !== undefined ? { hotThreshold: description.jitThreshold } : {}),
      });
      if (description.memMerge !== false) offerRamForMerging(machine, io.log);
      const vm = new VirtualMachine(machine, description, digests ?? boot, disks, throttles, closeNic);
      vm.userNetwork = userNetwork;
      return vm;
    } catch (e) {
      userNetwork?.close();
      closeNic();
      await closeAll(disks);
      throw e;
    }
  }

  async run(): Promise<RunResult> {
    try {
      // Harts on other threads cannot fault pages in from a snapshot: RAM is whole before they start.
      if (this.machine.harts.length > 1) await this.wholeRam();
      return await this.machine.run();
    } finally {
      this.state = 'stopped';
    }
  }

  status(): VmStatus {
    return { state: this.state, config: this.description, instructionsRetired: this.machine.hart.instret, uptimeMs: Math.round(performance.now() - this.startedMs) };
  }

  stats(): VmStats {
    const { user, system } = process.cpuUsage();
    const { rss, heapUsed } = process.memoryUsage();
    const { disks, nics, balloon } = this.machine.virtio;
    return {
      uptimeMs: Math.round(performance.now() - this.startedMs),
      cpu: { userMicros: user, systemMicros: system, instructionsRetired: this.machine.hart.instret },
      memory: { rssBytes: rss, heapUsedBytes: heapUsed, guestRamBytes: this.description.ramMiB * 1024 * 1024, zeroPagesGivenBackBytes: this.zeroRamGivenBack, mergedBytes: mergedBytes() },
      disks: disks.map(({ stats: s }, i) => ({ serial: this.description.disks[i]!.serial, readOps: s.reads, writeOps: s.writes, readBytes: s.bytesRead, writeBytes: s.bytesWritten, flushOps: s.flushes })),
      nics: nics.map((nic) => ({ mac: this.description.network!.mac, ...nic.counters })),
      ...(balloon !== null ? { balloon: { ...balloon.counters } } : {}),
    };
  }

  cpu(): CpuStatus {
    return { capPercent: this.cpuCap.capPercent, usedPercent: this.cpuCap.usedPercent };
  }

  /** Applied at once; recorded in the description, so a snapshot or migration carries it. */
  setCpuCap(capPercent: number | null): CpuStatus {
    this.cpuCap.set(capPercent);
    if (capPercent === null) delete this.description.cpu;
    else this.description.cpu = { capPercent };
    return this.cpu();
  }

  setDiskLimits(serial: string, limits: IoLimits): IoLimits | null {
    const index = this.description.disks.findIndex((d) => d.serial === serial);
    if (index < 0) return null;
    this.throttles[index]!.setLimits(limits);
    this.description.disks[index] = { ...this.description.disks[index]!, limits: { ...limits } };
    return this.throttles[index]!.limits;
  }

  async pause(): Promise<void> {
    this.expect('pause', ['running', 'paused']);
    await this.machine.pause();
    if (this.state === 'running') this.state = 'paused';
  }

  async resume(): Promise<void> {
    this.expect('resume', ['paused', 'running']);
    if (this.state === 'running') return;
    // The disks hold the snapshot's contents: the VM writes on in overlays over them.
    if (this.frozenBy !== null) await this.leaveFrozenDisks();
    this.state = 'running';
    this.machine.resume();
  }

  /**
   * Moves the running VM to a destination waiting with `vireo run --incoming`: RAM is copied
   * while the guest runs, then the guest pauses briefly for the rest. On success this VM stops
   * (run() ends, migratedTo says where); on failure it runs on here.
   */
  async migrate(target: MigrationTarget, progress: (p: OperationProgress) => void = () => {}): Promise<Record<string, unknown>> {
    this.expect('migrate', ['running']);
    if (this.busy) throw new VmControlError(INVALID_STATE, 'another long operation is in progress');
    this.busy = true;
    this.state = 'migrating';
    this.cpuCap.hold();
    try {
      await this.wholeRam();
      const report = await sendVm({
        machine: this.machine,
        describe: () => this.snapshotDescription(),
        diskFacts: () => this.disks.map((d): DiskFacts => ({ size: d.size, readOnly: d.readOnly, discard: d.discard !== undefined, writeZeroes: d.writeZeroes !== undefined })),
        trackDisks: () => this.trackDisks(),
        flushDisks: async () => {
          for (const disk of this.disks) await disk.flush();
        },
        releaseDisks: () => this.releaseDisks(),
        reacquireDisks: () => this.reacquireDisks(),
      }, target, progress);
      this.migratedTo = report;
      // Stopped from a task of its own, so whoever awaits this (the API's operation) hears of the success first.
      setImmediate(() => this.machine.requestStop());
      return { ...report };
    } catch (e) {
      this.state = 'running';
      throw new VmControlError('migration-failed', `${(e as Error).message}; the VM runs on here`, { cause: e });
    } finally {
      this.busy = false;
      this.cpuCap.release();
    }
  }

  /** Where the VM went, once a migration succeeded. */
  migratedTo: MigrationReport | null = null;

  /** The destination's handover: the disks the source released replace the awaited ones. */
  async takeOverDisks(disks: readonly DiskDescription[]): Promise<void> {
    if (disks.length !== this.disks.length) throw new VmControlError('migration-failed', `the source handed over ${disks.length} disks, not ${this.disks.length}`);
    for (const [index, disk] of disks.entries()) {
      const awaited = this.disks[index]!;
      this.swapDisk(index, await openDescribedDisk(disk), disk);
      await awaited.close();
    }
  }

  /** Puts `backend` behind disk `index` (nothing may be in flight), described by `described` when it moved. */
  private swapDisk(index: number, backend: DiskImage, described?: DiskDescription): void {
    this.machine.virtio.disks[index]!.replaceBackend(backend);
    this.disks[index] = backend;
    if (described) this.description.disks[index] = { ...described };
  }

  /** Puts every disk behind a tracked one (a brief pause, so no request is in flight). */
  private async trackDisks(): Promise<TrackedDisk[]> {
    await this.machine.pause();
    try {
      return this.disks.map((disk, index) => {
        const tracked = trackDisk(disk);
        this.swapDisk(index, tracked);
        return tracked;
      });
    } finally {
      this.machine.resume();
    }
  }

  private async releaseDisks(): Promise<void> {
    for (const disk of this.disks) {
      await disk.flush();
      await disk.close();
    }
  }

  private async reacquireDisks(): Promise<void> {
    for (const [index, disk] of this.description.disks.entries()) this.swapDisk(index, await openDescribedDisk(disk));
  }

  async stop(): Promise<void> {
    this.machine.requestStop();
  }

  async shutdown(): Promise<void> {
    this.expect('shut down', ['running']);
    const pressed = this.machine.virtio.pressPowerButton();
    if (pressed === 'no-button') throw new VmControlError(NO_GUEST_DRIVER, 'this VM has no power button (restored from a snapshot taken before VMs had one); stop it with POST /vm/stop');
    if (pressed === 'no-guest-driver') {
      throw new VmControlError(NO_GUEST_DRIVER, 'the guest has not bound a driver to the power button (virtio-input; Linux needs virtio_input and evdev), so it cannot hear it; stop the VM with POST /vm/stop');
    }
    if (pressed === 'busy') throw new VmControlError(NO_GUEST_DRIVER, 'the guest has not taken the power button presses already sent; stop the VM with POST /vm/stop');
  }

  /**
   * Saves the whole VM to `path`: paused at an instruction boundary, disks drained and flushed,
   * then the board's state and RAM. The VM stays paused unless `resume`; either way the disks
   * as they are now belong to the snapshot, and the VM writes on in overlays once it runs.
   */
  async save(path: string, options: { resume: boolean }, progress: (p: OperationProgress) => void = () => {}): Promise<Record<string, unknown>> {
    this.expect('save', ['running', 'paused']);
    if (this.busy) throw new VmControlError(INVALID_STATE, 'another save is in progress');
    this.busy = true;
    const started = performance.now();
    try {
      await this.wholeRam();
      progress({ phase: 'pausing', done: 0, total: 1 });
      await this.machine.pause();
      const pausedMs = performance.now();
      this.state = 'saving';
      progress({ phase: 'flushing disks', done: 0, total: this.disks.length });
      for (const disk of this.disks) await disk.flush();
      const description = this.snapshotDescription();
      const machineState = this.machine.saveState();
      const written = await writeSnapshot(path, { description, state: machineState, ram: this.machine.ram }, {
        onProgress: (done: number, total: number) => progress({ phase: 'writing memory', done, total }),
      });
      this.frozenBy = path;
      this.state = 'paused';
      if (options.resume) await this.resume();
      const result = { path, ...written, pausedMs: Math.round(performance.now() - pausedMs), totalMs: Math.round(performance.now() - started), state: this.state };
      return result;
    } catch (e) {
      this.state = 'paused';
      throw new VmControlError('save-failed', `saving to ${path} failed: ${(e as Error).message}; the VM is paused, nothing was lost`, { cause: e });
    } finally {
      this.busy = false;
    }
  }

  private instructionsRetired(): number {
    return this.machine.harts.reduce((sum, hart) => sum + hart.instret, 0);
  }

  /** What an idle guest does not need goes back to the host (see IdleMemory). */
  private trimIdleMemory(): boolean {
    if (!this.machine.trimCodeCaches()) return false;
    fullGc();
    try {
      const discard = RamDiscard.load();
      discard.trimHeap();
      this.zeroRamGivenBack += this.machine.giveBackZeroRam(discard);
    } catch {
      // Without the addon the C heap and the zero pages stay; the balloon already said it is missing.
    }
    return true;
  }

  /** Closes shares and disks after run() ended, and the snapshot RAM was still coming from. */
  async close(): Promise<void> {
    this.cpuCap.stop();
    this.idleMemory.stop();
    this.closeNic();
    this.userNetwork?.close();
    this.lazyRam?.stop();
    await this.ramSource?.close();
    await this.machine.virtio.close();
    await closeAll(this.disks);
  }

  /**
   * RAM from a snapshot, on demand: pages come in as the guest touches them, the rest in the
   * background; the VM owns the reader from now on and closes it once every page is in.
   */
  fillRamFrom(reader: SnapshotReader): void {
    const lazy = new LazyRam(reader, this.machine.memory);
    this.lazyRam = lazy;
    this.ramSource = reader;
    lazy.start();
    void lazy.complete().then(async () => {
      this.ramSource = null;
      await reader.close();
    }, () => {});
  }

  /** Every page of RAM in place (a save or a migration reads all of it). */
  private async wholeRam(): Promise<void> {
    await this.lazyRam?.complete();
  }

  private lazyRam: LazyRam | null = null;
  private ramSource: SnapshotReader | null = null;

  /** The description as a snapshot or a migration records it: with the digests of the boot files the VM started from. */
  private snapshotDescription(): VmDescription {
    // Computed once: hashing a kernel takes longer than a migration's pause may.
    this.bootDigests ??= digestsOf(this.boot!);
    return { ...withDigests(this.description, this.bootDigests), disks: this.description.disks.map((d) => ({ ...d })) };
  }

  /** Moves every writable disk onto a new overlay over the image the snapshot now owns. */
  private async leaveFrozenDisks(): Promise<void> {
    const snapshot = this.frozenBy!;
    const replaced = await overlayWritableDisks(this.description.disks, (disk) => `${disk.path}.after-${basename(snapshot)}`);
    for (const { index, path, backend } of replaced) {
      const frozen = this.disks[index]!;
      this.swapDisk(index, backend, { ...this.description.disks[index]!, path, format: 'qcow2' });
      await frozen.close();
    }
    this.frozenBy = null;
  }

  private expect(verb: string, states: VmRunState[]): void {
    if (!states.includes(this.state)) throw new VmControlError(INVALID_STATE, `cannot ${verb} a VM that is ${this.state}`);
  }

}

function openDescribedDisk(disk: DiskDescription): Promise<DiskImage> {
  return openDiskImage(disk.path, { readOnly: disk.readOnly, ...(disk.format ? { format: disk.format } : {}) });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function closeAll(disks: readonly DiskImage[]): Promise<void> {
  for (const disk of disks) {
    try {
      await disk.close();
    } catch {
      // Closing the rest matters more; the caller reports the run's own outcome.
    }
  }
}

/** Offers the guest RAM to the host's same-page merging; without KSM or the addon it stays the VM's own, as logged. */
function offerRamForMerging(machine: Machine, log: ((line: string) => void) | undefined): void {
  try {
    if (!machine.offerRamForMerging(RamDiscard.load())) log?.('guest RAM is not offered for merging: this host kernel has no KSM');
  } catch (e) {
    log?.(`guest RAM is not offered for merging: ${(e as Error).message}`);
  }
}

/** This process's memory the host's same-page merging shares with identical pages (/proc/self/ksm_stat, Linux 6.1+), in bytes; 0 without it. */
function mergedBytes(): number {
  try {
    const pages = /ksm_merging_pages\s+(\d+)/.exec(readFileSync('/proc/self/ksm_stat', 'utf8'))?.[1];
    return pages === undefined ? 0 : Number(pages) * RamDiscard.load().pageSize;
  } catch {
    return 0;
  }
}
