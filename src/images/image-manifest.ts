// manifest.json of a built image: which Debian packages (name, version, sha256) went into
// it, the kernel version, and the sha256 of every output, so a later run can tell a complete
// cache from a partial or corrupt one without the network.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ManifestFields } from './manifest-fields.js';
import type { JsonObject } from './manifest-fields.js';
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

const USES: readonly string[] = ['kernel', 'firmware', 'busybox', 'userland'];

/** Checks the shape of a parsed manifest.json; throws a 'bad-manifest' ImageError naming the first problem. */
export function parseManifest(value: unknown, path = 'manifest.json'): ImageManifest {
  const f = new ManifestFields(path, 'image manifest');
  const root = f.root(value, MANIFEST_FORMAT);
  const origin = f.origin(root);
  const modules = root['modules'];
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === 'string')) f.fail('modules must be a list of names');
  const packages = root['packages'];
  if (!Array.isArray(packages) || packages.length === 0) return f.fail('packages must be a non-empty list');
  const outputs = f.object(root, 'outputs');
  const size = (o: JsonObject, where: string): number => f.count(o, 'size', where, 'a byte count');
  return {
    format: MANIFEST_FORMAT,
    ...origin,
    modules: modules as string[],
    packages: packages.map((p: unknown, i): ManifestPackage => {
      const where = `packages[${i}]`;
      if (!f.isObject(p)) return f.fail(`${where} must be an object`);
      const use = f.str(p, 'use', where);
      if (!USES.includes(use)) f.fail(`${where}.use must be one of ${USES.join(', ')}`);
      return { name: f.str(p, 'name', where), version: f.str(p, 'version', where), architecture: f.str(p, 'architecture', where), sha256: f.hash(p, where), size: size(p, where), use: use as PackageUse };
    }),
    outputs: Object.fromEntries(
      OUTPUT_NAMES.map((name) => {
        const o = outputs[name];
        if (!f.isObject(o)) return f.fail(`outputs.${name} is missing`);
        const file = f.str(o, 'file', `outputs.${name}`);
        if (file.includes('/') || file.startsWith('.')) f.fail(`outputs.${name}.file must be a plain file name`);
        return [name, { file, sha256: f.hash(o, `outputs.${name}`), size: size(o, `outputs.${name}`) }];
      }),
    ) as Record<OutputName, ManifestOutput>,
    builtAt: typeof root['builtAt'] === 'string' ? root['builtAt'] : '',
    ...(Number.isSafeInteger(root['rootfsRevision']) ? { rootfsRevision: root['rootfsRevision'] as number } : {}),
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
