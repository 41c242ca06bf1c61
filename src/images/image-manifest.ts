// manifest.json of a built image: which Debian packages (name, version, sha256) went into
// it, the kernel version, and the sha256 of every output, so a later run can tell a complete
// cache from a partial or corrupt one without the network.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from './image-error.js';
import { sha256File } from './private-apt.js';

export const MANIFEST_FORMAT = 1;

export type PackageUse = 'kernel' | 'firmware' | 'busybox' | 'userland';

export interface ManifestPackage {
  name: string;
  version: string;
  architecture: string;
  /** sha256 of the .deb. */
  sha256: string;
  size: number;
  /** What the image takes from it. */
  use: PackageUse;
}

export interface ManifestOutput {
  /** File name inside the image directory. */
  file: string;
  sha256: string;
  size: number;
}

export const OUTPUT_NAMES = ['firmware', 'kernel', 'initrd', 'rootDisk'] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export interface ImageManifest {
  format: typeof MANIFEST_FORMAT;
  /** e.g. debian-trixie-riscv64 */
  image: string;
  suite: string;
  architecture: string;
  /** Where the packages came from (read from the host's apt sources at build time). */
  mirror: { host: string; uri: string };
  /** Kernel release (uname -r), e.g. 6.12.117+deb13-riscv64. */
  kernelVersion: string;
  /** Modules the initrd loads, in load order. */
  modules: string[];
  packages: ManifestPackage[];
  outputs: Record<OutputName, ManifestOutput>;
  /** ISO 8601 time of the build; informational only. */
  builtAt: string;
  /** Revision of the root disk's own files (guest-files.ts); absent in images built before it was recorded. */
  rootfsRevision?: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
const USES: readonly string[] = ['kernel', 'firmware', 'busybox', 'userland'];

/** Checks the shape of a parsed manifest.json; throws a 'bad-manifest' ImageError naming the first problem. */
export function parseManifest(value: unknown, path = 'manifest.json'): ImageManifest {
  const fail = (why: string): never => {
    throw new ImageError('bad-manifest', `${path} is not a valid image manifest: ${why}; delete it to rebuild the image`, { path });
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (o: Record<string, unknown>, key: string, where: string): string => {
    const v = o[key];
    if (typeof v !== 'string' || v === '') fail(`${where}.${key} must be a non-empty string`);
    return v as string;
  };
  const size = (o: Record<string, unknown>, where: string): number => {
    const v = o['size'];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${where}.size must be a byte count`);
    return v as number;
  };
  const hash = (o: Record<string, unknown>, where: string): string => {
    const v = str(o, 'sha256', where);
    if (!SHA256.test(v)) fail(`${where}.sha256 must be 64 lower-case hex digits`);
    return v;
  };
  if (!isObject(value)) return fail('not a JSON object');
  if (value['format'] !== MANIFEST_FORMAT) fail(`format is ${JSON.stringify(value['format'])}, expected ${MANIFEST_FORMAT}`);
  const mirror = value['mirror'];
  if (!isObject(mirror)) return fail('mirror must be an object');
  const modules = value['modules'];
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === 'string')) fail('modules must be a list of names');
  const packages = value['packages'];
  if (!Array.isArray(packages) || packages.length === 0) return fail('packages must be a non-empty list');
  const outputs = value['outputs'];
  if (!isObject(outputs)) return fail('outputs must be an object');
  return {
    format: MANIFEST_FORMAT,
    image: str(value, 'image', 'manifest'),
    suite: str(value, 'suite', 'manifest'),
    architecture: str(value, 'architecture', 'manifest'),
    mirror: { host: str(mirror, 'host', 'mirror'), uri: str(mirror, 'uri', 'mirror') },
    kernelVersion: str(value, 'kernelVersion', 'manifest'),
    modules: modules as string[],
    packages: packages.map((p: unknown, i): ManifestPackage => {
      const where = `packages[${i}]`;
      if (!isObject(p)) return fail(`${where} must be an object`);
      const use = str(p, 'use', where);
      if (!USES.includes(use)) fail(`${where}.use must be one of ${USES.join(', ')}`);
      return { name: str(p, 'name', where), version: str(p, 'version', where), architecture: str(p, 'architecture', where), sha256: hash(p, where), size: size(p, where), use: use as PackageUse };
    }),
    outputs: Object.fromEntries(
      OUTPUT_NAMES.map((name) => {
        const o = outputs[name];
        if (!isObject(o)) return fail(`outputs.${name} is missing`);
        const file = str(o, 'file', `outputs.${name}`);
        if (file.includes('/') || file.startsWith('.')) fail(`outputs.${name}.file must be a plain file name`);
        return [name, { file, sha256: hash(o, `outputs.${name}`), size: size(o, `outputs.${name}`) }];
      }),
    ) as Record<OutputName, ManifestOutput>,
    builtAt: typeof value['builtAt'] === 'string' ? value['builtAt'] : '',
    ...(Number.isSafeInteger(value['rootfsRevision']) ? { rootfsRevision: value['rootfsRevision'] as number } : {}),
  };
}

/** What is wrong with the outputs in `dir` compared with the manifest; empty when all match. */
export async function checkOutputs(dir: string, manifest: ImageManifest): Promise<string[]> {
  const problems: string[] = [];
  for (const name of OUTPUT_NAMES) {
    const { file, sha256, size } = manifest.outputs[name];
    const path = join(dir, file);
    if (!existsSync(path)) problems.push(`${file} is missing`);
    else if (statSync(path).size !== size) problems.push(`${file} has ${statSync(path).size} bytes, the manifest says ${size}`);
    else if ((await sha256File(path)) !== sha256) problems.push(`${file} does not match its sha256 in the manifest`);
  }
  return problems;
}
