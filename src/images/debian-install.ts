// The two stages of the complete Debian's install. The first runs on the host and runs no
// riscv64 code: the Priority: required packages unpacked with dpkg-deb (enough for dpkg and a
// shell), every .deb copied in, the second-stage script written, and the root and boot file
// systems made with mke2fs. The second boots that root disk in a Vireo VM, where the script
// installs and configures everything with dpkg as root, then powers off.

import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageError } from './image-error.js';
import { checkTool, tail } from './run-tool.js';
import { giveFilesToRoot, mergeUsr } from './rootfs-builder.js';
import { SECOND_STAGE_FAILURE, SECOND_STAGE_MARKER, secondStageScript } from './second-stage-script.js';
import type { SecondStageInput } from './second-stage-script.js';

/** Where the .debs and the script sit on the half-built root disk. */
export const INSTALL_DIR = '/var/cache/vireo-install';
export const SECOND_STAGE_PATH = '/vireo-second-stage';

/** debootstrap's core packages, installed one by one before the rest (in this order). */
export const CORE_PACKAGES = ['base-passwd', 'base-files', 'dpkg', 'libc6', 'perl-base', 'mawk', 'debconf'] as const;

export interface InstallPackage {
  name: string;
  version: string;
  /** The .deb on the host. */
  deb: string;
  /** Unpacked on the host in the first stage, and installed before the rest in the second. */
  required: boolean;
}

/** The second stage's package groups, as file names: core (in debootstrap's order), the other required ones, the rest. */
export function installOrder(packages: readonly InstallPackage[]): Pick<SecondStageInput, 'core' | 'required' | 'base' | 'dpkgVersion'> {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const missing = CORE_PACKAGES.filter((name) => !byName.has(name));
  if (missing.length > 0) throw new ImageError('package-not-found', `the package set lacks the core packages ${missing.join(', ')}`, { step: 'resolve' });
  const core = new Set<string>(CORE_PACKAGES);
  const file = (p: InstallPackage): string => basename(p.deb);
  return {
    core: CORE_PACKAGES.map((name) => file(byName.get(name)!)),
    dpkgVersion: byName.get('dpkg')!.version,
    required: packages.filter((p) => p.required && !core.has(p.name)).map(file),
    base: packages.filter((p) => !p.required && !core.has(p.name)).map(file),
  };
}

export interface FirstStageInput {
  packages: readonly InstallPackage[];
  /** The second stage's configuration (package groups and debDir are filled in here). */
  system: Omit<SecondStageInput, 'core' | 'required' | 'base' | 'dpkgVersion' | 'debDir'>;
  /** Scratch directory for the unpacked tree (emptied first, removed at the end). */
  stageDir: string;
  rootImage: string;
  rootSizeMiB: number;
  bootImage: string;
  bootSizeMiB: number;
  onStep?: (detail: string) => void;
}

async function mkfsExt4(image: string, label: string, uuid: string, sizeMiB: number, tree?: string): Promise<void> {
  rmSync(image, { force: true });
  await checkTool('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', label, '-U', uuid, '-E', `root_owner=0:0,hash_seed=${uuid}`, ...(tree ? ['-d', tree] : []), image, `${sizeMiB}M`], { step: 'first-stage' });
}

/** Builds the half-made root file system and the empty boot file system. */
export async function runFirstStage(input: FirstStageInput): Promise<void> {
  const root = input.stageDir;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  try {
    const required = input.packages.filter((p) => p.required);
    input.onStep?.(`unpacking the ${required.length} required packages with dpkg-deb`);
    for (const p of required) await checkTool('dpkg-deb', ['-x', p.deb, root], { step: 'first-stage' });
    mergeUsr(root);
    for (const dir of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'proc', 'sys', 'dev', 'run', 'boot', 'tmp']) mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);
    for (const file of ['var/lib/dpkg/status', 'var/lib/dpkg/available']) writeFileSync(join(root, file), '');
    writeFileSync(join(root, 'etc/fstab'), '# UNCONFIGURED FSTAB FOR BASE SYSTEM\n');

    const debDir = join(root, INSTALL_DIR);
    mkdirSync(debDir, { recursive: true });
    input.onStep?.(`copying ${input.packages.length} .debs into ${INSTALL_DIR}`);
    for (const p of input.packages) copyFileSync(p.deb, join(debDir, basename(p.deb)));
    const script = secondStageScript({ ...input.system, ...installOrder(input.packages), debDir: INSTALL_DIR });
    writeFileSync(join(root, SECOND_STAGE_PATH), script, { mode: 0o755 });

    input.onStep?.(`mke2fs -d: root file system (${input.rootSizeMiB} MiB), boot file system (${input.bootSizeMiB} MiB)`);
    await mkfsExt4(input.rootImage, 'root', input.system.rootUuid, input.rootSizeMiB, root);
    if (process.getuid?.() !== 0) await giveFilesToRoot(root, input.rootImage, 'first-stage');
    await mkfsExt4(input.bootImage, 'boot', input.system.bootUuid, input.bootSizeMiB);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export interface SecondStageRun {
  /** The default guest's OpenSBI, kernel and initramfs (its /init honours init=). */
  firmware: string;
  kernel: string;
  initrd: string;
  rootImage: string;
  bootImage: string;
  memoryMiB: number;
  /** The console log, kept for a failed build. */
  logFile: string;
  timeoutMs: number;
  onLine?: (line: string) => void;
}

/** bin/vireo.js of this installation (dist/src/images/ is three levels below the root). */
const VIREO_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'vireo.js');

/** Boots the half-built root disk in a Vireo VM and waits for the script to finish; returns the guest's own account of the time taken. */
export async function runSecondStage(run: SecondStageRun): Promise<{ seconds: number }> {
  const args = [
    VIREO_BIN, 'run', '--bios', run.firmware, '--kernel', run.kernel, '--initrd', run.initrd,
    '--append', `console=ttyS0 root=/dev/vda init=${SECOND_STAGE_PATH} cryptomgr.notests`,
    '-m', String(run.memoryMiB), '--disk', `${run.rootImage},format=raw`, '--disk', `${run.bootImage},format=raw`,
    '--timeout', String(Math.ceil(run.timeoutMs / 1000)),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let pending = '';
  const take = (chunk: string): void => {
    log += chunk;
    pending += chunk;
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    for (const line of lines) run.onLine?.(line);
  };
  child.stdout.setEncoding('utf8').on('data', take);
  child.stderr.setEncoding('utf8').on('data', take);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve(status));
  });
  mkdirSync(dirname(run.logFile), { recursive: true });
  writeFileSync(run.logFile, log);
  const done = new RegExp(`${SECOND_STAGE_MARKER} in (\\d+) s`).exec(log);
  const failed = new RegExp(`${SECOND_STAGE_FAILURE}: (.*)`).exec(log);
  if (!done || code !== 0) {
    const why = failed ? failed[1]!.trim() : code === 124 ? `it did not finish within ${Math.round(run.timeoutMs / 60000)} minutes` : code === 0 ? 'the VM powered off without finishing the script' : `the VM exited with status ${code}`;
    throw new ImageError('second-stage-failed', `the second stage of the install (dpkg in a Vireo VM) failed: ${why}; the console log is in ${run.logFile}:\n${tail(log, 30)}`, { step: 'second-stage', path: run.logFile, output: tail(log, 30) });
  }
  return { seconds: Number(done[1]) };
}
