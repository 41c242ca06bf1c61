// Builds the root disk: Debian's userland packages unpacked with dpkg-deb (no maintainer
// script runs; nothing riscv64 executes), merged-/usr links, busybox for the missing tools,
// a little configuration, packed into an ext4 image with `mke2fs -d`.

import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { busyboxApplets } from './busybox-applets.js';
import { REQUIRED_APPLETS, rootfsFiles } from './guest-files.js';
import { ImageError } from './image-error.js';
import { checkTool } from './run-tool.js';

export interface RootfsInput {
  /** .deb files to unpack, in order. */
  debs: readonly string[];
  /** Scratch directory for the unpacked tree (emptied first, left for the caller to remove). */
  stageDir: string;
  /** The ext4 image to write. */
  output: string;
  sizeMiB: number;
  /**
   * Filesystem UUID, so the same packages give the same disk identity. (The image is not
   * bit-for-bit repeatable: mke2fs 1.47.0 copies ctimes and follows readdir order.)
   */
  uuid: string;
  onStep?: (detail: string) => void;
}

/** Moves everything under `from` into `to`, keeping what `to` already has. */
function mergeInto(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory() && existsSync(target) && lstatSync(target).isDirectory()) mergeInto(source, target);
    else if (!existsSync(target)) renameSync(source, target);
  }
  rmSync(from, { recursive: true, force: true });
}

/** /bin, /sbin and /lib as links into /usr, as on every Debian since 12, whatever the packages shipped. */
export function mergeUsr(root: string): void {
  for (const dir of ['bin', 'sbin', 'lib']) {
    const top = join(root, dir);
    const usr = join(root, 'usr', dir);
    if (existsSync(top) && lstatSync(top).isDirectory() && !lstatSync(top).isSymbolicLink()) mergeInto(top, usr);
    mkdirSync(usr, { recursive: true });
    if (!existsSync(top)) symlinkSync(`usr/${dir}`, top);
  }
}

/** Drops manuals, translations and docs (keeping copyright files), as minimal Debian images do. */
function trimDocs(root: string): void {
  for (const dir of ['usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian', 'usr/share/bug']) {
    rmSync(join(root, dir), { recursive: true, force: true });
  }
  const docs = join(root, 'usr/share/doc');
  if (!existsSync(docs)) return;
  for (const pkg of readdirSync(docs)) {
    const dir = join(docs, pkg);
    if (!lstatSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir)) if (file !== 'copyright') rmSync(join(dir, file), { recursive: true, force: true });
  }
}

/** Links every busybox applet the Debian packages do not provide; /sbin/init is busybox init. */
function linkBusybox(root: string): number {
  const busybox = join(root, 'usr/bin/busybox');
  if (!existsSync(busybox)) throw new ImageError('bad-package', 'busybox-static did not provide /usr/bin/busybox (or /bin/busybox)', { path: busybox, package: 'busybox-static' });
  const has = (name: string): boolean => ['usr/bin', 'usr/sbin'].some((dir) => existsSync(join(root, dir, name)) || isLink(join(root, dir, name)));
  if (!has('init')) symlinkSync('../bin/busybox', join(root, 'usr/sbin/init'));
  const applets = busyboxApplets(readFileSync(busybox), busybox);
  const missing = REQUIRED_APPLETS.filter((name) => !applets.includes(name));
  if (missing.length > 0) throw new ImageError('bad-package', `busybox-static lacks the applets ${missing.join(', ')} the guest's init scripts use`, { path: busybox, package: 'busybox-static' });
  let linked = 0;
  for (const applet of applets) {
    if (applet === 'linuxrc' || has(applet)) continue;
    symlinkSync('busybox', join(root, 'usr/bin', applet));
    linked++;
  }
  return linked;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Every path under `root`, relative, for the ownership fix-up. */
function listTree(root: string, prefix = ''): string[] {
  const paths: string[] = [];
  for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    paths.push(rel);
    if (entry.isDirectory()) paths.push(...listTree(root, rel));
  }
  return paths;
}

export async function buildRootfs(input: RootfsInput): Promise<void> {
  const root = input.stageDir;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const deb of input.debs) {
    input.onStep?.(`unpacking ${deb.split('/').pop()}`);
    await checkTool('dpkg-deb', ['-x', deb, root], { step: 'rootfs' });
  }
  mergeUsr(root);
  trimDocs(root);
  const linked = linkBusybox(root);
  input.onStep?.(`${linked} busybox applets linked for tools Debian's packages do not provide`);
  for (const dir of ['dev', 'proc', 'sys', 'run', 'mnt', 'var/log', 'usr/local/bin', 'usr/local/sbin']) mkdirSync(join(root, dir), { recursive: true });
  for (const [dir, mode] of [['root', 0o700], ['tmp', 0o1777], ['var/tmp', 0o1777]] as const) {
    mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, dir), mode);
  }
  for (const file of rootfsFiles()) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    writeFileSync(path, file.content, { mode: file.mode });
    chmodSync(path, file.mode);
  }
  if (!isLink(join(root, 'etc/mtab'))) symlinkSync('../proc/self/mounts', join(root, 'etc/mtab'));

  input.onStep?.(`mke2fs -t ext4 -d (${input.sizeMiB} MiB)`);
  rmSync(input.output, { force: true });
  await checkTool(
    'mke2fs',
    ['-q', '-F', '-t', 'ext4', '-b', '4096', '-L', 'vireo-root', '-U', input.uuid, '-m', '0', '-E', `root_owner=0:0,hash_seed=${input.uuid}`, '-d', root, input.output, `${input.sizeMiB}M`],
    { step: 'rootfs' },
  );
  // mke2fs -d copies owners from the tree; unpacked by a normal user they are that user, not root.
  if (process.getuid?.() !== 0) {
    input.onStep?.('setting owners to root with debugfs');
    await giveFilesToRoot(root, input.output, 'rootfs');
  }
}

/** Makes root the owner of every file of `tree` in the ext4 `image` that mke2fs -d made from it (a normal user's files are that user's). */
export async function giveFilesToRoot(tree: string, image: string, step: string): Promise<void> {
  const script = join(dirname(image), `${basename(image)}.owners.debugfs`);
  const quote = (path: string): string => `"/${path.replace(/(["\\])/g, '\\$1')}"`;
  writeFileSync(script, listTree(tree).map((path) => `sif ${quote(path)} uid 0\nsif ${quote(path)} gid 0\n`).join(''));
  const result = await checkTool('debugfs', ['-w', '-f', script, image], { step });
  rmSync(script, { force: true });
  // debugfs -f exits 0 whatever happens; anything on stderr but its version banner is a failure.
  const complaint = result.stderr.split('\n').find((line) => line.trim() !== '' && !/^debugfs \d/.test(line));
  if (complaint) throw new ImageError('tool-failed', `debugfs could not give root the files of ${image}: ${complaint}`, { step, command: 'debugfs', path: image });
}
