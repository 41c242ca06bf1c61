// One build of the complete Debian: the package set resolved and fetched with the private apt,
// the two install stages, then the GPT disk assembled and converted to a thin qcow2 with
// Vireo's own converter.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { convertImage } from '../storage/image-ops/convert-image.js';
import type { CompleteConfiguration, CompletePackage } from './complete-manifest.js';
import type { CompleteDebianOptions } from './complete-debian.js';
import { installOrder, runFirstStage, runSecondStage } from './debian-install.js';
import type { InstallPackage } from './debian-install.js';
import { chooseKeyring, ensureDebianImage, publicUri, resolveMirror } from './debian-image.js';
import { planDiskLayout, writeRawDisk } from './disk-layout.js';
import { ImageError } from './image-error.js';
import { PrivateApt } from './private-apt.js';
import { requireTools } from './run-tool.js';

const SUITE = 'trixie';
const ARCHITECTURE = 'riscv64';
const MiB = 1024 * 1024;
const BOOT_MIB = 384;

/**
 * Besides Priority: required: the init system, apt, logins, SSH, the kernel with an initramfs
 * and the extlinux menu, DHCP through systemd-networkd with systemd-resolved, sudo, e2fsprogs
 * (fsck of the ext4 file systems at boot), iproute2 (ip), zstd (initramfs-tools' compressor:
 * without it gzip -9 takes minutes in the VM) and hello (the package the boot test runs to show
 * that a package installed at build time works).
 */
export const EXTRA_PACKAGES = [
  'systemd', 'systemd-sysv', 'udev', 'apt', 'login', 'passwd', 'openssh-server', 'linux-image-riscv64',
  'initramfs-tools', 'u-boot-menu', 'systemd-resolved', 'sudo', 'e2fsprogs', 'iproute2', 'zstd', 'hello',
] as const;
const REQUIRED_PATTERN = '?priority(required)';

export interface InstallInput {
  dir: string;
  work: string;
  options: CompleteDebianOptions;
  configuration: CompleteConfiguration;
  passwordHash: string;
  authorizedKeys?: string;
  /** The qcow2 to write. */
  image: string;
  progress: (step: string, detail: string) => void;
}

export interface InstallResult {
  suite: string;
  architecture: string;
  mirror: { host: string; uri: string };
  kernelVersion: string;
  packages: CompletePackage[];
  filesystems: { rootUuid: string; bootUuid: string };
  times: Record<string, number>;
}

export async function installCompleteDebian(input: InstallInput): Promise<InstallResult> {
  const { progress, work } = input;
  requireTools(['apt-get', 'apt-cache', 'dpkg-deb', 'mke2fs', 'sfdisk', 'openssl', ...(process.getuid?.() === 0 ? [] : ['debugfs'])], 'check');
  const times: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string): void => {
    times[name] = Math.round((Date.now() - mark) / 1000);
    mark = Date.now();
  };

  const mirror = resolveMirror(input.options);
  const keyring = chooseKeyring(mirror);
  progress('sources', `${mirror.uri} ${SUITE} main [${ARCHITECTURE}]`);
  const apt = new PrivateApt({ dir: join(input.dir, 'apt'), mirror, keyring, suite: SUITE, architecture: ARCHITECTURE });
  apt.writeConfig();
  await apt.update((line) => progress('update', line));
  progress('resolve', `Priority: required, ${EXTRA_PACKAGES.join(' ')} and their dependencies`);
  const requiredNames = new Set((await apt.resolveClosure([REQUIRED_PATTERN])).map((r) => r.name));
  const records = await apt.resolveClosure([REQUIRED_PATTERN, ...EXTRA_PACKAGES]);
  const kernel = records.find((r) => /^linux-image-\d/.test(r.name));
  if (!kernel) throw new ImageError('package-not-found', 'linux-image-riscv64 brought no linux-image-<version> package', { step: 'resolve' });
  const total = records.reduce((sum, r) => sum + r.size, 0);
  progress('download', `${records.length} packages, ${(total / 1e6).toFixed(1)} MB (cached ones are reused)`);
  const debs = await apt.download(records, (line) => progress('download', line));
  lap('fetch');

  const packages: InstallPackage[] = records.map((r, i) => ({ name: r.name, version: r.version, deb: debs[i]!, required: requiredNames.has(r.name) }));
  installOrder(packages); // fails early when a core package is missing
  // The helper that runs the second stage: the default guest's OpenSBI, kernel and initramfs.
  progress('second-stage', 'the default guest (its kernel and initramfs run the second stage)');
  const helper = await ensureDebianImage({ ...(input.options.cacheRoot ? { cacheRoot: input.options.cacheRoot } : {}), ...(input.options.mirror ? { mirror: input.options.mirror } : {}), ...(input.options.aptEtc ? { aptEtc: input.options.aptEtc } : {}) });

  const filesystems = { rootUuid: randomUUID(), bootUuid: randomUUID() };
  const rootImage = join(work, 'root.ext4');
  const bootImage = join(work, 'boot.ext4');
  const rootSizeMiB = input.configuration.sizeGiB * 1024;
  await runFirstStage({
    packages,
    system: {
      hostname: input.configuration.hostname,
      user: input.configuration.user,
      passwordHash: input.passwordHash,
      ...(input.authorizedKeys !== undefined ? { authorizedKeys: input.authorizedKeys } : {}),
      ...filesystems,
      mirrorUri: publicUri(mirror.uri),
      suite: SUITE,
      kernelParameters: input.configuration.kernelParameters,
    },
    stageDir: join(work, 'stage'),
    rootImage,
    rootSizeMiB,
    bootImage,
    bootSizeMiB: BOOT_MIB,
    onStep: (detail) => progress('first-stage', detail),
  });
  lap('firstStage');

  progress('second-stage', 'booting the half-built system in a Vireo VM: dpkg installs and configures every package');
  const second = await runSecondStage({
    firmware: helper.firmware,
    kernel: helper.kernel,
    initrd: helper.initrd,
    rootImage,
    bootImage,
    memoryMiB: input.options.memoryMiB ?? 1536,
    logFile: join(input.dir, 'second-stage.log'),
    timeoutMs: 80 * 60_000,
    onLine: (line) => progress('second-stage', line),
  });
  lap('secondStage');
  times['secondStageInGuest'] = second.seconds;

  progress('disk', `GPT: boot ${BOOT_MIB} MiB (ext4, legacy-BIOS-bootable), root ${rootSizeMiB} MiB (ext4); qcow2`);
  const raw = join(work, 'disk.raw');
  await writeRawDisk(raw, planDiskLayout(BOOT_MIB * MiB, rootSizeMiB * MiB), [bootImage, rootImage]);
  await convertImage(raw, input.image, { outputFormat: 'qcow2', inputFormat: 'raw' });
  lap('disk');

  return {
    suite: SUITE,
    architecture: ARCHITECTURE,
    mirror: { host: mirror.host, uri: publicUri(mirror.uri) },
    kernelVersion: kernel.name.replace(/^linux-image-/, ''),
    packages: records.map((r) => ({ name: r.name, version: r.version, architecture: r.architecture, sha256: r.sha256, size: r.size, required: requiredNames.has(r.name) })),
    filesystems,
    times,
  };
}
