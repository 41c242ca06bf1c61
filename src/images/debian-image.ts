// The default guest: Debian trixie for riscv64, built from Debian's own packages (stock
// kernel, OpenSBI, busybox-static and a small userland) and cached outside the repository.
// A complete cache is checked against manifest.json and used as is; anything else is rebuilt.

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mirrorFromUri, pickDebianMirror, readHostSources } from './apt-sources.js';
import type { DebianMirror } from './apt-sources.js';
import { acquireCacheLock } from './cache-lock.js';
import { ImageError } from './image-error.js';
import { checkOutputs, MANIFEST_FORMAT, OUTPUT_NAMES, parseManifest } from './image-manifest.js';
import type { ImageManifest, ManifestOutput, ManifestPackage, OutputName, PackageUse } from './image-manifest.js';
import { buildInitrd } from './initrd-builder.js';
import { collectModules, findKernelTree } from './kernel-modules.js';
import { debFileName, PrivateApt, sha256File } from './private-apt.js';
import type { PackageRecord } from './private-apt.js';
import { buildRootfs } from './rootfs-builder.js';
import { checkTool, requireTools } from './run-tool.js';

export const IMAGE_NAME = 'debian-trixie-riscv64';
const SUITE = 'trixie';
const ARCHITECTURE = 'riscv64';

/** The packages, by role. The userland list is closed over its dependencies by apt. */
const KERNEL_META_PACKAGE = 'linux-image-riscv64';
const FIRMWARE_PACKAGE = 'opensbi';
const BUSYBOX_PACKAGE = 'busybox-static';
const USERLAND_PACKAGES = ['libc6', 'libgcc-s1', 'coreutils', 'dash', 'xz-utils'];

/** Drivers the board needs that Debian builds as modules (crc32c_generic: ext4's checksums; virtio_balloon: free page reporting). */
const GUEST_MODULES = ['crc32c_generic', 'ext4', 'virtio_mmio', 'virtio_blk', 'virtio_net', 'virtio_rng', 'virtio_console', '9p', '9pnet_virtio', 'evdev', 'virtio_input', 'virtio_balloon'];

/** Bumped when the root disk's own files change, so a cached image without the change is rebuilt (1: the udhcpc script; 2: eth0 up at boot; 3: the script where Debian's busybox looks; 4: acpid for the power button; 5: the initramfs honours init=). */
const ROOTFS_REVISION = 5;

const FIRMWARE_PATH = 'usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin';
const ROOT_DISK_MIB = 256;
const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

const OUTPUT_FILES: Record<OutputName, string> = { firmware: 'fw_jump.bin', kernel: 'vmlinux', initrd: 'initrd.img', rootDisk: 'rootfs.ext4' };
const MANIFEST_FILE = 'manifest.json';

export type ImageStep = 'check' | 'sources' | 'update' | 'resolve' | 'download' | 'firmware' | 'kernel' | 'modules' | 'initrd' | 'rootfs' | 'manifest' | 'done';

export interface DebianImageOptions {
  /** Vireo's cache directory; the image goes to <cacheRoot>/images/debian-trixie-riscv64. Default: see vireoCacheRoot(). */
  cacheRoot?: string;
  /** Base URL of the Debian archive; default VIREO_DEBIAN_MIRROR, else the host's apt sources. */
  mirror?: string;
  /** Where the host's apt sources are read from (tests). */
  aptEtc?: string;
  onProgress?: (step: ImageStep, detail: string) => void;
}

export interface DebianImage {
  /** The image directory. */
  dir: string;
  /** OpenSBI fw_jump.bin, for --bios. */
  firmware: string;
  /** The raw RISC-V Linux Image (vmlinux-*), for --kernel. */
  kernel: string;
  /** gzip newc initramfs, for --initrd. */
  initrd: string;
  /** ext4 root disk for virtio-blk (/dev/vda). The pristine base: give each VM a copy or an overlay. */
  rootDisk: string;
  manifest: string;
  versions: {
    /** Kernel release as uname -r prints it, e.g. 6.12.117+deb13-riscv64. */
    kernelRelease: string;
    /** Debian versions of the kernel, opensbi and busybox-static packages. */
    kernel: string;
    opensbi: string;
    busybox: string;
  };
  packages: ManifestPackage[];
  /** False when the cache was already complete and nothing was done. */
  built: boolean;
}

/** Vireo's cache directory: $VIREO_CACHE, else $XDG_CACHE_HOME/vireo, else ~/.cache/vireo. */
export function vireoCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VIREO_CACHE) return env.VIREO_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vireo');
}

export function imageDirectory(cacheRoot = vireoCacheRoot()): string {
  return join(cacheRoot, 'images', IMAGE_NAME);
}

/** Whether `image` starts like a RISC-V Linux Image: "RISCV\0\0\0" at 0x30, "RSC\x05" at 0x38. */
export function isRiscvLinuxImage(image: Uint8Array): boolean {
  const buf = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  return buf.length >= 0x40 && buf.toString('latin1', 0x30, 0x38) === 'RISCV\0\0\0' && buf.toString('latin1', 0x38, 0x3c) === 'RSC\x05';
}

function readManifest(dir: string): ImageManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const manifest = parseManifest(JSON.parse(readFileSync(path, 'utf8')), path);
    return manifest.image === IMAGE_NAME ? manifest : undefined;
  } catch {
    return undefined; // unreadable: rebuilt like a missing one
  }
}

function describe(dir: string, manifest: ImageManifest, built: boolean): DebianImage {
  const version = (use: PackageUse): string => manifest.packages.find((p) => p.use === use)?.version ?? '';
  return {
    dir,
    firmware: join(dir, manifest.outputs.firmware.file),
    kernel: join(dir, manifest.outputs.kernel.file),
    initrd: join(dir, manifest.outputs.initrd.file),
    rootDisk: join(dir, manifest.outputs.rootDisk.file),
    manifest: join(dir, MANIFEST_FILE),
    versions: {
      kernelRelease: manifest.kernelVersion,
      kernel: version('kernel'),
      opensbi: version('firmware'),
      busybox: manifest.packages.find((p) => p.name === BUSYBOX_PACKAGE)?.version ?? '',
    },
    packages: manifest.packages,
    built,
  };
}

/** The cached image if manifest.json and every output match; otherwise why not. */
async function checkCache(dir: string): Promise<{ manifest?: ImageManifest; problems: string[] }> {
  const manifest = readManifest(dir);
  if (!manifest) return { problems: [existsSync(join(dir, MANIFEST_FILE)) ? `${MANIFEST_FILE} is not valid` : `no ${MANIFEST_FILE} yet`] };
  // Images built before the 9p, power button or balloon drivers were added lack them (Debian builds them as modules, so a complete initrd lists them).
  const missing = ['9p', '9pnet_virtio', 'evdev', 'virtio_input', 'virtio_balloon'].filter((m) => !manifest.modules.includes(m));
  if (missing.length > 0) return { manifest, problems: [`the cached initrd lacks the drivers ${missing.join(', ')}`] };
  if ((manifest.rootfsRevision ?? 0) < ROOTFS_REVISION) return { manifest, problems: [`the cached root disk predates revision ${ROOTFS_REVISION} of its files (init= in the initramfs)`] };
  return { manifest, problems: await checkOutputs(dir, manifest) };
}

/**
 * Returns the Debian riscv64 guest image, building it first unless the cache already holds a
 * complete one (then it only verifies hashes: no network, no apt). Safe to call from several
 * processes at once: builds are serialized by a lock in the image directory.
 */
export async function ensureDebianImage(options: DebianImageOptions = {}): Promise<DebianImage> {
  const progress = options.onProgress ?? (() => {});
  const dir = imageDirectory(options.cacheRoot ?? vireoCacheRoot());
  progress('check', `verifying ${dir}`);
  const first = await checkCache(dir);
  if (first.manifest && first.problems.length === 0) {
    progress('done', `cached: Linux ${first.manifest.kernelVersion}, ${first.manifest.packages.length} packages`);
    return describe(dir, first.manifest, false);
  }
  mkdirSync(dir, { recursive: true });
  const release = await acquireCacheLock(dir, { onWait: (holder) => progress('check', `waiting for ${holder} to finish building ${dir}`) });
  try {
    // Another process may have finished the build while we waited for the lock.
    const { manifest, problems } = await checkCache(dir);
    if (manifest && problems.length === 0) {
      progress('done', `built by another process: Linux ${manifest.kernelVersion}`);
      return describe(dir, manifest, false);
    }
    progress('check', `building: ${problems.join('; ')}`);
    const built = await build(dir, manifest, options, progress);
    progress('done', `built ${dir}: Linux ${built.kernelVersion}, ${built.packages.length} packages`);
    return describe(dir, built, true);
  } finally {
    release();
  }
}

interface PlannedPackage {
  record: Pick<PackageRecord, 'name' | 'version' | 'architecture' | 'sha256' | 'size'>;
  use: PackageUse;
  deb: string;
}

interface Plan {
  mirror: { host: string; uri: string };
  packages: PlannedPackage[];
}

/** The mirror to fetch from: the option, VIREO_DEBIAN_MIRROR, else the host's apt sources. */
export function resolveMirror(options: Pick<DebianImageOptions, 'mirror' | 'aptEtc'>): DebianMirror {
  const override = options.mirror ?? process.env.VIREO_DEBIAN_MIRROR;
  if (override) {
    const mirror = mirrorFromUri(override);
    if (!mirror) throw new ImageError('no-mirror', `the Debian mirror "${override}" is not an http, https, ftp or file URL`, { step: 'sources' });
    return mirror;
  }
  const etc = options.aptEtc ?? '/etc/apt';
  const mirror = pickDebianMirror(readHostSources(etc));
  if (!mirror) {
    throw new ImageError(
      'no-mirror',
      `the apt sources in ${etc} name no Debian archive (a "deb" entry whose URL ends in /debian); set VIREO_DEBIAN_MIRROR to the URL of a Debian mirror`,
      { step: 'sources', path: etc },
    );
  }
  return mirror;
}

/** The keyring that checks the mirror's signatures. */
export function chooseKeyring(mirror: DebianMirror): string {
  // The full keyring first: a suite-specific Signed-By of the host (bookworm's) may lack trixie's keys.
  for (const keyring of [DEFAULT_KEYRING, mirror.signedBy]) if (keyring && existsSync(keyring)) return keyring;
  throw new ImageError('no-keyring', `no Debian archive keyring at ${DEFAULT_KEYRING} to check the mirror's signatures; install the debian-archive-keyring package`, { step: 'sources', path: DEFAULT_KEYRING });
}

/** A URI fit to record: no user name or password. */
export function publicUri(uri: string): string {
  const url = new URL(uri);
  url.username = '';
  url.password = '';
  return url.toString().replace(/\/+$/, '');
}

/** The previous build's exact packages, when all their .debs are still cached intact: no network needed. */
async function pinnedPlan(archives: string, previous: ImageManifest | undefined): Promise<Plan | undefined> {
  if (!previous) return undefined;
  const packages: PlannedPackage[] = [];
  for (const p of previous.packages) {
    const deb = join(archives, debFileName(p));
    if (!existsSync(deb) || (await sha256File(deb)) !== p.sha256) return undefined;
    packages.push({ record: p, use: p.use, deb });
  }
  return { mirror: previous.mirror, packages };
}

async function resolvePlan(aptDir: string, options: DebianImageOptions, progress: (step: ImageStep, detail: string) => void): Promise<Plan> {
  const mirror = resolveMirror(options);
  const keyring = chooseKeyring(mirror);
  progress('sources', `${mirror.uri} ${SUITE} main [${ARCHITECTURE}], signatures checked with ${keyring}`);
  const apt = new PrivateApt({ dir: aptDir, mirror, keyring, suite: SUITE, architecture: ARCHITECTURE });
  apt.writeConfig();
  progress('update', `fetching the ${SUITE} ${ARCHITECTURE} package index`);
  await apt.update((line) => progress('update', line));
  progress('resolve', `${KERNEL_META_PACKAGE}, ${FIRMWARE_PACKAGE}, ${BUSYBOX_PACKAGE}, ${USERLAND_PACKAGES.join(' ')} and dependencies`);
  const kernel = await apt.resolveKernel(KERNEL_META_PACKAGE);
  const singles = await apt.show([FIRMWARE_PACKAGE, BUSYBOX_PACKAGE]);
  const firmware = singles.find((r) => r.name === FIRMWARE_PACKAGE);
  const busybox = singles.find((r) => r.name === BUSYBOX_PACKAGE);
  if (!firmware || !busybox) {
    const name = firmware ? BUSYBOX_PACKAGE : FIRMWARE_PACKAGE;
    throw new ImageError('package-not-found', `${name} is not in ${mirror.uri} ${SUITE} for ${ARCHITECTURE}`, { step: 'resolve', package: name });
  }
  const userland = (await apt.resolveClosure(USERLAND_PACKAGES)).filter((r) => r.name !== BUSYBOX_PACKAGE);
  const records: Array<[PackageRecord, PackageUse]> = [[kernel, 'kernel'], [firmware, 'firmware'], [busybox, 'busybox'], ...userland.map((r): [PackageRecord, PackageUse] => [r, 'userland'])];
  const total = records.reduce((sum, [r]) => sum + r.size, 0);
  progress('download', `${records.length} packages, ${(total / 1e6).toFixed(1)} MB (cached ones are reused)`);
  const debs = await apt.download(records.map(([r]) => r), (line) => progress('download', line));
  return {
    mirror: { host: mirror.host, uri: publicUri(mirror.uri) },
    packages: records.map(([record, use], i) => ({ record, use, deb: debs[i]! })),
  };
}

/** A stable filesystem UUID derived from the packages, so the same inputs give the same disk. */
function diskUuid(plan: Plan): string {
  const h = createHash('sha256').update(plan.packages.map((p) => p.record.sha256).join('\n')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function build(dir: string, previous: ImageManifest | undefined, options: DebianImageOptions, progress: (step: ImageStep, detail: string) => void): Promise<ImageManifest> {
  const aptDir = join(dir, 'apt');
  const archives = join(aptDir, 'archives');
  const pinned = await pinnedPlan(archives, previous);
  // Every missing program in one message; apt only when packages must be fetched.
  requireTools(['dpkg-deb', 'xz', 'mke2fs', ...(process.getuid?.() === 0 ? [] : ['debugfs']), ...(pinned ? [] : ['apt-get', 'apt-cache'])], 'check');
  if (pinned) progress('resolve', `reusing the ${pinned.packages.length} packages of the previous build (cached, hashes match)`);
  const plan = pinned ?? (await resolvePlan(aptDir, options, progress));

  // We hold the lock, so any build directory left here is from a build that died.
  for (const name of readdirSync(dir)) if (name.startsWith('build.')) rmSync(join(dir, name), { recursive: true, force: true });
  const work = join(dir, `build.${process.pid}`);
  const out = join(work, 'out');
  mkdirSync(out, { recursive: true });
  try {
    const debOf = (use: PackageUse): string => plan.packages.find((p) => p.use === use)!.deb;
    const extract = async (use: PackageUse, into: string): Promise<string> => {
      await checkTool('dpkg-deb', ['-x', debOf(use), into], { step: use });
      return into;
    };

    const firmwareTree = await extract('firmware', join(work, 'firmware'));
    const firmware = join(firmwareTree, FIRMWARE_PATH);
    if (!existsSync(firmware) || statSync(firmware).size === 0) {
      throw new ImageError('bad-package', `${FIRMWARE_PACKAGE} has no ${FIRMWARE_PATH}`, { step: 'firmware', package: FIRMWARE_PACKAGE });
    }
    copyFileSync(firmware, join(out, OUTPUT_FILES.firmware));
    progress('firmware', `${OUTPUT_FILES.firmware} from ${FIRMWARE_PACKAGE}`);

    progress('kernel', `unpacking ${debOf('kernel').split('/').pop()}`);
    const kernelTree = await extract('kernel', join(work, 'kernel'));
    const tree = findKernelTree(kernelTree);
    const vmlinux = join(kernelTree, 'boot', `vmlinux-${tree.version}`);
    if (!existsSync(vmlinux) || !isRiscvLinuxImage(readFileSync(vmlinux).subarray(0, 64))) {
      throw new ImageError('bad-package', `the kernel package has no RISC-V Linux Image at boot/vmlinux-${tree.version}`, { step: 'kernel', path: vmlinux });
    }
    copyFileSync(vmlinux, join(out, OUTPUT_FILES.kernel));

    progress('modules', `${GUEST_MODULES.join(', ')} and their dependencies`);
    const modules = await collectModules(tree, GUEST_MODULES);
    progress('modules', `load order: ${modules.modules.map((m) => m.name).join(' ') || '(all built in)'}`);

    const busyboxTree = await extract('busybox', join(work, 'busybox'));
    const busybox = ['usr/bin/busybox', 'bin/busybox'].map((p) => join(busyboxTree, p)).find((p) => existsSync(p));
    if (!busybox) throw new ImageError('bad-package', `${BUSYBOX_PACKAGE} has no bin/busybox`, { step: 'initrd', package: BUSYBOX_PACKAGE });
    const initrd = buildInitrd({ busybox: readFileSync(busybox), kernelVersion: tree.version, modules });
    writeFileSync(join(out, OUTPUT_FILES.initrd), initrd);
    progress('initrd', `${OUTPUT_FILES.initrd}: ${(initrd.length / 1e6).toFixed(1)} MB`);
    rmSync(kernelTree, { recursive: true, force: true });

    await buildRootfs({
      debs: plan.packages.filter((p) => p.use === 'userland' || p.use === 'busybox').map((p) => p.deb),
      stageDir: join(work, 'rootfs'),
      output: join(out, OUTPUT_FILES.rootDisk),
      sizeMiB: ROOT_DISK_MIB,
      uuid: diskUuid(plan),
      onStep: (detail) => progress('rootfs', detail),
    });

    progress('manifest', 'hashing the outputs');
    const outputs = {} as Record<OutputName, ManifestOutput>;
    for (const name of OUTPUT_NAMES) {
      const path = join(out, OUTPUT_FILES[name]);
      outputs[name] = { file: OUTPUT_FILES[name], sha256: await sha256File(path), size: statSync(path).size };
    }
    const manifest: ImageManifest = {
      format: MANIFEST_FORMAT,
      image: IMAGE_NAME,
      suite: SUITE,
      architecture: ARCHITECTURE,
      mirror: plan.mirror,
      kernelVersion: tree.version,
      modules: modules.modules.map((m) => m.name),
      packages: plan.packages.map(({ record, use }) => ({ name: record.name, version: record.version, architecture: record.architecture, sha256: record.sha256, size: record.size, use })),
      outputs,
      builtAt: new Date().toISOString(),
      rootfsRevision: ROOTFS_REVISION,
    };
    // Outputs first, manifest last: a crash in between leaves a manifest that no longer matches.
    for (const name of OUTPUT_NAMES) renameSync(join(out, OUTPUT_FILES[name]), join(dir, OUTPUT_FILES[name]));
    writeFileSync(join(work, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    renameSync(join(work, MANIFEST_FILE), join(dir, MANIFEST_FILE));

    // Drop .debs of earlier builds (an older kernel is 100+ MB).
    const keep = new Set(plan.packages.map((p) => debFileName(p.record)));
    if (existsSync(archives)) for (const file of readdirSync(archives)) if (file.endsWith('.deb') && !keep.has(file)) rmSync(join(archives, file), { force: true });
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
