// What a VM process tells and takes about its resources, for the host agent: stats, the CPU
// cap and disk limits at run time. A controller that has them serves the resource routes.

import type { IoLimits } from '../../storage/qos/io-limits.js';

export interface DiskStats {
  serial: string;
  readOps: number;
  writeOps: number;
  readBytes: number;
  writeBytes: number;
  flushOps: number;
}

export interface NicStats {
  mac: string;
  rxFrames: number;
  txFrames: number;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
}

/** Free page reporting (virtio-balloon): what the guest gave back, and what of it left host memory. */
export interface BalloonStats {
  reportedBytes: number;
  discardedBytes: number;
  inflatedPages: number;
  deflatedPages: number;
  faults: number;
}

export interface VmStats {
  uptimeMs: number;
  cpu: { userMicros: number; systemMicros: number; instructionsRetired: number };
  /**
   * zeroPagesGivenBackBytes: guest RAM that held only zeros, given back to the host by idle
   * trims. mergedBytes: the process's memory the host's same-page merging (KSM) shares with
   * identical pages, its own or other VMs'.
   */
  memory: { rssBytes: number; heapUsedBytes: number; guestRamBytes: number; zeroPagesGivenBackBytes: number; mergedBytes: number };
  disks: DiskStats[];
  nics: NicStats[];
  /** Present when the VM has a balloon. */
  balloon?: BalloonStats;
}

export interface CpuStatus {
  /** Percent of one host core (100 per hart at most), or null for none. */
  capPercent: number | null;
  /** CPU the process used over the last second, percent of one host core. */
  usedPercent: number;
}

/**
 * Errors: setCpuCap throws one of kind 'bad-cap' for a cap out of range; setDiskLimits one of
 * kind 'bad-limit' for bad limits and returns null for an unknown serial.
 */
export interface VmResourceController {
  stats(): VmStats;
  cpu(): CpuStatus;
  setCpuCap(capPercent: number | null): CpuStatus;
  /** The limits now in force, or null when no disk has that serial. */
  setDiskLimits(serial: string, limits: IoLimits): IoLimits | null;
}

export function hasResources(controller: object): controller is VmResourceController {
  const c = controller as Partial<VmResourceController>;
  return typeof c.stats === 'function' && typeof c.cpu === 'function' && typeof c.setCpuCap === 'function' && typeof c.setDiskLimits === 'function';
}
