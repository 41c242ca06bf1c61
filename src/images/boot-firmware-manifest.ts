// manifest.json of the cached boot firmware set (U-Boot, GRUB's riscv64 EFI modules): the
// Debian packages it came from and the sha256 of each output, so a later run can tell a
// complete cache from a partial or corrupt one without the network.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from './image-error.js';
import { sha256File } from './private-apt.js';

export const BOOT_FIRMWARE_FORMAT = 2;

export type BootFirmwareUse = 'opensbi' | 'u-boot' | 'grub';
export const BOOT_FIRMWARE_OUTPUTS = ['openSbi', 'uBoot', 'grubModules'] as const;
export type BootFirmwareOutput = (typeof BOOT_FIRMWARE_OUTPUTS)[number];

export interface BootFirmwareManifest {
  format: typeof BOOT_FIRMWARE_FORMAT;
  name: string;
  suite: string;
  mirror: { host: string; uri: string };
  packages: Array<{ name: string; version: string; architecture: string; sha256: string; size: number; use: BootFirmwareUse }>;
  /** A file, or (grubModules) a directory whose sha256 is over its sorted "name sha256" lines. */
  outputs: Record<BootFirmwareOutput, { file: string; sha256: string; size: number }>;
  builtAt: string;
}

/** The sha256 and byte size of a file, or of a flat directory's files (by name, then content). */
export async function outputDigest(path: string): Promise<{ sha256: string; size: number }> {
  if (!statSync(path).isDirectory()) return { sha256: await sha256File(path), size: statSync(path).size };
  const lines: string[] = [];
  let size = 0;
  for (const name of readdirSync(path).sort()) {
    lines.push(`${name} ${await sha256File(join(path, name))}\n`);
    size += statSync(join(path, name)).size;
  }
  return { sha256: createHash('sha256').update(lines.join('')).digest('hex'), size };
}

/** Checks the shape of a parsed manifest.json; throws a 'bad-manifest' ImageError. */
export function parseBootFirmwareManifest(value: unknown, path: string): BootFirmwareManifest {
  const fail = (why: string): never => {
    throw new ImageError('bad-manifest', `${path} is not a valid boot firmware manifest: ${why}; delete it to fetch the firmware again`, { path });
  };
  const v = value as Partial<BootFirmwareManifest> | null;
  if (typeof v !== 'object' || v === null || v.format !== BOOT_FIRMWARE_FORMAT) return fail(`format must be ${BOOT_FIRMWARE_FORMAT}`);
  if (typeof v.name !== 'string' || typeof v.suite !== 'string' || typeof v.mirror?.uri !== 'string') return fail('name, suite and mirror are required');
  const hex = /^[0-9a-f]{64}$/;
  if (!Array.isArray(v.packages) || !v.packages.every((p) => typeof p?.name === 'string' && typeof p.version === 'string' && hex.test(p.sha256) && (p.use === 'opensbi' || p.use === 'u-boot' || p.use === 'grub'))) {
    return fail('packages must list name, version, sha256 and use');
  }
  for (const name of BOOT_FIRMWARE_OUTPUTS) {
    const o = v.outputs?.[name];
    if (!o || typeof o.file !== 'string' || o.file.includes('/') || o.file.startsWith('.') || !hex.test(o.sha256) || !Number.isSafeInteger(o.size)) fail(`outputs.${name} must give a plain file name, sha256 and size`);
  }
  return v as BootFirmwareManifest;
}

/** What is wrong with the outputs in `dir` compared with the manifest; empty when all match. */
export async function checkBootFirmwareOutputs(dir: string, manifest: BootFirmwareManifest): Promise<string[]> {
  const problems: string[] = [];
  for (const name of BOOT_FIRMWARE_OUTPUTS) {
    const { file, sha256, size } = manifest.outputs[name];
    const path = join(dir, file);
    if (!existsSync(path)) {
      problems.push(`${file} is missing`);
      continue;
    }
    const actual = await outputDigest(path);
    if (actual.size !== size || actual.sha256 !== sha256) problems.push(`${file} does not match its sha256 in the manifest`);
  }
  return problems;
}
