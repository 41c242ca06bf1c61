// The firmware that boots standard disk images: OpenSBI's fw_jump, Debian's S-mode U-Boot for
// QEMU's virt board (which fw_jump starts at 0x80200000), and GRUB's riscv64 EFI modules, from
// which tests build an EFI application with grub-mkimage. Fetched with the private apt like the
// guest's packages, cached outside the repository with a manifest, built under a lock.

import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireCacheLock } from './cache-lock.js';
import { chooseKeyring, publicUri, resolveMirror, vireoCacheRoot, type DebianImageOptions } from './debian-image.js';
import { BOOT_FIRMWARE_FORMAT, BOOT_FIRMWARE_OUTPUTS, checkBootFirmwareOutputs, outputDigest, parseBootFirmwareManifest, type BootFirmwareManifest, type BootFirmwareOutput, type BootFirmwareUse } from './boot-firmware-manifest.js';
import { ImageError } from './image-error.js';
import { debFileName, PrivateApt, sha256File } from './private-apt.js';
import { checkTool, requireTools } from './run-tool.js';

export const BOOT_FIRMWARE_NAME = 'boot-firmware-trixie-riscv64';
const SUITE = 'trixie';
const ARCHITECTURE = 'riscv64';

const PACKAGES: ReadonlyArray<[string, BootFirmwareUse]> = [['opensbi', 'opensbi'], ['u-boot-qemu', 'u-boot'], ['grub-efi-riscv64-bin', 'grub']];
/** Where each output is inside its package, and its name in the cache. */
const SOURCES: Record<BootFirmwareOutput, { use: BootFirmwareUse; path: string; file: string }> = {
  openSbi: { use: 'opensbi', path: 'usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin', file: 'fw_jump.bin' },
  uBoot: { use: 'u-boot', path: 'usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin', file: 'u-boot.bin' },
  grubModules: { use: 'grub', path: 'usr/lib/grub/riscv64-efi', file: 'grub-riscv64-efi' },
};
const MANIFEST_FILE = 'manifest.json';

export type BootFirmwareOptions = Pick<DebianImageOptions, 'cacheRoot' | 'mirror' | 'aptEtc'> & { onProgress?: (detail: string) => void };

export interface BootFirmware {
  dir: string;
  /** OpenSBI's fw_jump.bin, the M-mode firmware that starts U-Boot. */
  openSbi: string;
  /** S-mode U-Boot for the virt board: the payload OpenSBI's fw_jump starts. */
  uBoot: string;
  /** GRUB's riscv64-efi module directory, for `grub-mkimage -d DIR -O riscv64-efi`. */
  grubModules: string;
  manifest: string;
  versions: Record<BootFirmwareUse, string>;
  /** False when the cache was already complete. */
  built: boolean;
}

export function bootFirmwareDirectory(cacheRoot = vireoCacheRoot()): string {
  return join(cacheRoot, 'images', BOOT_FIRMWARE_NAME);
}

function describe(dir: string, manifest: BootFirmwareManifest, built: boolean): BootFirmware {
  const version = (use: BootFirmwareUse) => manifest.packages.find((p) => p.use === use)?.version ?? '';
  return {
    dir,
    openSbi: join(dir, manifest.outputs.openSbi.file),
    uBoot: join(dir, manifest.outputs.uBoot.file),
    grubModules: join(dir, manifest.outputs.grubModules.file),
    manifest: join(dir, MANIFEST_FILE),
    versions: { opensbi: version('opensbi'), 'u-boot': version('u-boot'), grub: version('grub') },
    built,
  };
}

async function checkCache(dir: string): Promise<{ manifest?: BootFirmwareManifest; problems: string[] }> {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return { problems: [`no ${MANIFEST_FILE} yet`] };
  let manifest: BootFirmwareManifest;
  try {
    manifest = parseBootFirmwareManifest(JSON.parse(readFileSync(path, 'utf8')), path);
  } catch {
    return { problems: [`${MANIFEST_FILE} is not valid`] };
  }
  return { manifest, problems: await checkBootFirmwareOutputs(dir, manifest) };
}

/**
 * Returns the cached boot firmware, fetching it first unless the cache is complete (then only
 * hashes are checked: no network). Safe from several processes at once (a lock serializes builds).
 */
export async function ensureBootFirmware(options: BootFirmwareOptions = {}): Promise<BootFirmware> {
  const progress = options.onProgress ?? (() => {});
  const dir = bootFirmwareDirectory(options.cacheRoot ?? vireoCacheRoot());
  const first = await checkCache(dir);
  if (first.manifest && first.problems.length === 0) return describe(dir, first.manifest, false);
  mkdirSync(dir, { recursive: true });
  const release = await acquireCacheLock(dir, { onWait: (holder) => progress(`waiting for ${holder} to finish fetching ${dir}`) });
  try {
    const again = await checkCache(dir);
    if (again.manifest && again.problems.length === 0) return describe(dir, again.manifest, false);
    progress(`fetching OpenSBI, U-Boot and GRUB into ${dir}: ${again.problems.join('; ')}`);
    return describe(dir, await build(dir, again.manifest, options, progress), true);
  } finally {
    release();
  }
}

type Fetched = Array<{ record: BootFirmwareManifest['packages'][number]; deb: string }>;

/** The previous manifest's .debs when all are still cached intact, else a fresh resolve and download. */
async function fetchPackages(aptDir: string, previous: BootFirmwareManifest | undefined, options: BootFirmwareOptions, progress: (detail: string) => void): Promise<{ mirror: BootFirmwareManifest['mirror']; fetched: Fetched }> {
  const archives = join(aptDir, 'archives');
  if (previous) {
    const fetched = previous.packages.map((record) => ({ record, deb: join(archives, debFileName(record)) }));
    let intact = true;
    for (const { record, deb } of fetched) intact &&= existsSync(deb) && (await sha256File(deb)) === record.sha256;
    if (intact) return { mirror: previous.mirror, fetched };
  }
  requireTools(['apt-get', 'apt-cache', 'dpkg-deb'], 'check');
  const mirror = resolveMirror(options);
  const apt = new PrivateApt({ dir: aptDir, mirror, keyring: chooseKeyring(mirror), suite: SUITE, architecture: ARCHITECTURE });
  apt.writeConfig();
  progress(`fetching the ${SUITE} ${ARCHITECTURE} package index`);
  await apt.update();
  const records = await apt.show(PACKAGES.map(([name]) => name));
  const uses = PACKAGES.map(([name, use]) => {
    const record = records.find((r) => r.name === name);
    if (!record) throw new ImageError('package-not-found', `${name} is not in ${mirror.uri} ${SUITE} for ${ARCHITECTURE}`, { step: 'resolve', package: name });
    return { record: { name: record.name, version: record.version, architecture: record.architecture, sha256: record.sha256, size: record.size, use }, full: record };
  });
  progress(`downloading ${uses.map((u) => `${u.record.name} ${u.record.version}`).join(', ')}`);
  const debs = await apt.download(uses.map((u) => u.full));
  return { mirror: { host: mirror.host, uri: publicUri(mirror.uri) }, fetched: uses.map((u, i) => ({ record: u.record, deb: debs[i]! })) };
}

async function build(dir: string, previous: BootFirmwareManifest | undefined, options: BootFirmwareOptions, progress: (detail: string) => void): Promise<BootFirmwareManifest> {
  const { mirror, fetched } = await fetchPackages(join(dir, 'apt'), previous, options, progress);
  for (const name of readdirSync(dir)) if (name.startsWith('build.')) rmSync(join(dir, name), { recursive: true, force: true });
  const work = join(dir, `build.${process.pid}`);
  mkdirSync(work, { recursive: true });
  try {
    const outputs = {} as BootFirmwareManifest['outputs'];
    for (const name of BOOT_FIRMWARE_OUTPUTS) {
      const { use, path, file } = SOURCES[name];
      const { record, deb } = fetched.find((f) => f.record.use === use)!;
      const tree = join(work, use);
      if (!existsSync(tree)) await checkTool('dpkg-deb', ['-x', deb, tree], { step: use });
      const source = join(tree, path);
      if (!existsSync(source) || (statSync(source).isFile() && statSync(source).size === 0)) {
        throw new ImageError('bad-package', `${record.name} ${record.version} has no ${path}`, { step: use, package: record.name });
      }
      rmSync(join(work, file), { recursive: true, force: true });
      cpSync(source, join(work, file), { recursive: true });
      outputs[name] = { file, ...(await outputDigest(join(work, file))) };
    }
    const manifest: BootFirmwareManifest = {
      format: BOOT_FIRMWARE_FORMAT,
      name: BOOT_FIRMWARE_NAME,
      suite: SUITE,
      mirror,
      packages: fetched.map((f) => f.record),
      outputs,
      builtAt: new Date().toISOString(),
    };
    // Outputs first, manifest last: a crash in between leaves a manifest that no longer matches.
    for (const name of BOOT_FIRMWARE_OUTPUTS) {
      rmSync(join(dir, outputs[name].file), { recursive: true, force: true });
      renameSync(join(work, outputs[name].file), join(dir, outputs[name].file));
    }
    writeFileSync(join(work, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    renameSync(join(work, MANIFEST_FILE), join(dir, MANIFEST_FILE));
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
