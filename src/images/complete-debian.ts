// The complete Debian: trixie riscv64 as a standard disk image (GPT, ext4 /boot with the
// extlinux menu, ext4 root, qcow2) with systemd, apt, DHCP by systemd-networkd, OpenSSH and a
// user, installed debootstrap-style: the first stage on the host, the second in a Vireo VM.
// Cached with a manifest and a lock; a complete cache is only verified.

import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireCacheLock } from './cache-lock.js';
import { COMPLETE_MANIFEST_FORMAT, parseCompleteManifest } from './complete-manifest.js';
import type { CompleteConfiguration, CompleteManifest } from './complete-manifest.js';
import { installCompleteDebian } from './complete-install.js';
import { vireoCacheRoot } from './debian-image.js';
import { ImageError } from './image-error.js';
import { sha256File } from './private-apt.js';
import { checkTool } from './run-tool.js';

export const COMPLETE_IMAGE_NAME = 'debian-trixie-riscv64-complete';
const IMAGE_FILE = 'debian.qcow2';
const MANIFEST_FILE = 'manifest.json';
const PASSWORD_FILE = 'password';
const DEFAULT_USER = 'debian';
const DEFAULT_SIZE_GIB = 4;
/** Bumped when what the builder puts in the image changes, so a cached image without the change is built again (2: SSH host keys made on first boot). */
export const BUILDER_REVISION = 2;
export const HOSTNAME = 'vireo-debian';
export const KERNEL_PARAMETERS = 'ro console=ttyS0';

export interface CompleteDebianOptions {
  /** Default: see vireoCacheRoot(). */
  cacheRoot?: string;
  /** Base URL of the Debian archive; default VIREO_DEBIAN_MIRROR, else the host's apt sources. */
  mirror?: string;
  aptEtc?: string;
  /** The login (default debian), in the sudo group. */
  user?: string;
  /** A file whose first line is the user's password; default: one generated and kept in the cache directory. */
  passwordFile?: string;
  /** An authorized_keys file for the user. */
  authorizedKeysFile?: string;
  /** The root file system's size in GiB (default 4; the qcow2 stays thin). */
  sizeGiB?: number;
  /** Copy the image here too. */
  output?: string;
  /** RAM of the second stage's VM in MiB (default 1536). */
  memoryMiB?: number;
  onProgress?: (step: string, detail: string) => void;
}

export interface CompleteDebian {
  dir: string;
  /** The cached qcow2: boot a copy or an overlay of it. */
  image: string;
  manifest: CompleteManifest;
  manifestFile: string;
  user: string;
  /** The generated password's file (mode 0600), when no password file was given. */
  passwordFile?: string;
  /** Where --output copied the image. */
  output?: string;
  built: boolean;
}

interface Settings {
  configuration: CompleteConfiguration;
  password?: string;
  authorizedKeys?: string;
  /** Part of the cache directory's name; '' for the defaults. */
  suffix: string;
}

function settingsOf(options: CompleteDebianOptions): Settings {
  const user = options.user ?? DEFAULT_USER;
  const sizeGiB = options.sizeGiB ?? DEFAULT_SIZE_GIB;
  if (!Number.isSafeInteger(sizeGiB) || sizeGiB < 2 || sizeGiB > 1024) throw new ImageError('bad-option', `--size must be a whole number of GiB from 2 to 1024, not ${options.sizeGiB}`);
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new ImageError('bad-option', `cannot read the ${what} file ${path}: ${(error as Error).message}`, { path }, { cause: error });
    }
  };
  const password = options.passwordFile ? read(options.passwordFile, 'password').split('\n')[0]! : undefined;
  if (password !== undefined && password === '') throw new ImageError('bad-option', `the password file ${options.passwordFile} is empty`, { path: options.passwordFile });
  const authorizedKeys = options.authorizedKeysFile ? read(options.authorizedKeysFile, 'authorized keys') : undefined;
  const keyCount = authorizedKeys?.split('\n').filter((l) => l.trim() && !l.startsWith('#')).length ?? 0;
  const configuration: CompleteConfiguration = {
    revision: BUILDER_REVISION,
    hostname: HOSTNAME,
    user,
    password: password !== undefined ? 'file' : 'generated',
    authorizedKeys: keyCount,
    sizeGiB,
    kernelParameters: KERNEL_PARAMETERS,
  };
  const custom = user !== DEFAULT_USER || sizeGiB !== DEFAULT_SIZE_GIB || password !== undefined || authorizedKeys !== undefined;
  // The secrets go into the hash salted with the other settings; only 12 hex digits of it are kept.
  const suffix = custom ? `-${createHash('sha256').update(JSON.stringify({ configuration, password, authorizedKeys })).digest('hex').slice(0, 12)}` : '';
  return { configuration, ...(password !== undefined ? { password } : {}), ...(authorizedKeys !== undefined ? { authorizedKeys } : {}), suffix };
}

export function completeImageDirectory(options: CompleteDebianOptions = {}): string {
  return join(options.cacheRoot ?? vireoCacheRoot(), 'images', `${COMPLETE_IMAGE_NAME}${settingsOf(options).suffix}`);
}

async function checkCache(dir: string): Promise<{ manifest?: CompleteManifest; problems: string[] }> {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return { problems: [`no ${MANIFEST_FILE} yet`] };
  let manifest: CompleteManifest;
  try {
    manifest = parseCompleteManifest(JSON.parse(readFileSync(path, 'utf8')), path);
  } catch {
    return { problems: [`${MANIFEST_FILE} is not valid`] };
  }
  const image = join(dir, manifest.output.file);
  if (!existsSync(image)) return { manifest, problems: [`${manifest.output.file} is missing`] };
  if (manifest.configuration.revision !== BUILDER_REVISION) return { manifest, problems: [`built by revision ${manifest.configuration.revision} of the builder, not ${BUILDER_REVISION}`] };
  if (statSync(image).size !== manifest.output.size) return { manifest, problems: [`${manifest.output.file} has changed size`] };
  if ((await sha256File(image)) !== manifest.output.sha256) return { manifest, problems: [`${manifest.output.file} does not match its sha256 in the manifest`] };
  if (manifest.configuration.password === 'generated' && !existsSync(join(dir, PASSWORD_FILE))) return { manifest, problems: [`the generated password's file ${PASSWORD_FILE} is missing`] };
  return { manifest, problems: [] };
}

/** A SHA-512 crypt(3) hash of `password`, by the host's openssl. */
async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(12).toString('base64').replace(/[+=]/g, '.').slice(0, 16);
  const result = await checkTool('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { step: 'configure', stdin: `${password}\n` });
  return result.stdout.toString('utf8').trim();
}

function describe(dir: string, manifest: CompleteManifest, built: boolean, output?: string): CompleteDebian {
  const passwordFile = join(dir, PASSWORD_FILE);
  return {
    dir,
    image: join(dir, manifest.output.file),
    manifest,
    manifestFile: join(dir, MANIFEST_FILE),
    user: manifest.configuration.user,
    ...(manifest.configuration.password === 'generated' ? { passwordFile } : {}),
    ...(output ? { output } : {}),
    built,
  };
}

function copyOut(image: string, output: string | undefined, progress: (step: string, detail: string) => void): string | undefined {
  if (!output) return undefined;
  progress('output', `copying the image to ${output}`);
  copyFileSync(image, output);
  return output;
}

/**
 * Returns the complete Debian image, building it first unless the cache holds a complete one
 * (then only its sha256 is checked). Builds are serialized by a lock in the image directory.
 */
export async function ensureCompleteDebian(options: CompleteDebianOptions = {}): Promise<CompleteDebian> {
  const progress = options.onProgress ?? (() => {});
  const settings = settingsOf(options);
  const dir = completeImageDirectory(options);
  progress('check', `verifying ${dir}`);
  const first = await checkCache(dir);
  if (first.manifest && first.problems.length === 0) {
    progress('done', `cached: ${first.manifest.packages.length} packages, Linux ${first.manifest.kernelVersion}`);
    return describe(dir, first.manifest, false, copyOut(join(dir, first.manifest.output.file), options.output, progress));
  }
  mkdirSync(dir, { recursive: true });
  const release = await acquireCacheLock(dir, { timeoutMs: 90 * 60_000, onWait: (holder) => progress('check', `waiting for ${holder} to finish building ${dir}`) });
  try {
    const again = await checkCache(dir);
    if (again.manifest && again.problems.length === 0) return describe(dir, again.manifest, false, copyOut(join(dir, again.manifest.output.file), options.output, progress));
    progress('check', `building: ${again.problems.join('; ')}`);
    for (const name of readdirSync(dir)) if (name.startsWith('build.')) rmSync(join(dir, name), { recursive: true, force: true });
    const work = join(dir, `build.${process.pid}`);
    mkdirSync(work, { recursive: true });
    try {
      let password = settings.password;
      if (password === undefined) {
        password = randomBytes(12).toString('base64url');
        writeFileSync(join(work, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
      }
      const started = Date.now();
      const result = await installCompleteDebian({
        dir,
        work,
        options,
        configuration: settings.configuration,
        passwordHash: await hashPassword(password),
        ...(settings.authorizedKeys !== undefined ? { authorizedKeys: settings.authorizedKeys } : {}),
        image: join(work, IMAGE_FILE),
        progress,
      });
      progress('manifest', `hashing ${IMAGE_FILE}`);
      const image = join(work, IMAGE_FILE);
      const manifest: CompleteManifest = {
        format: COMPLETE_MANIFEST_FORMAT,
        image: COMPLETE_IMAGE_NAME,
        suite: result.suite,
        architecture: result.architecture,
        mirror: result.mirror,
        kernelVersion: result.kernelVersion,
        configuration: settings.configuration,
        packages: result.packages,
        output: { file: IMAGE_FILE, sha256: await sha256File(image), size: statSync(image).size, format: 'qcow2' },
        filesystems: result.filesystems,
        times: { ...result.times, total: Math.round((Date.now() - started) / 1000) },
        builtAt: new Date().toISOString(),
      };
      // The image and password first, the manifest last: a crash in between leaves a manifest that does not match.
      rmSync(join(dir, MANIFEST_FILE), { force: true });
      renameSync(image, join(dir, IMAGE_FILE));
      if (settings.password === undefined) renameSync(join(work, PASSWORD_FILE), join(dir, PASSWORD_FILE));
      else rmSync(join(dir, PASSWORD_FILE), { force: true });
      writeFileSync(join(work, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
      renameSync(join(work, MANIFEST_FILE), join(dir, MANIFEST_FILE));
      progress('done', `built ${join(dir, IMAGE_FILE)}: ${manifest.packages.length} packages in ${manifest.times.total} s`);
      return describe(dir, manifest, true, copyOut(join(dir, IMAGE_FILE), options.output, progress));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } finally {
    release();
  }
}
