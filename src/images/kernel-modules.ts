// Picks the kernel modules the guest needs out of an extracted kernel package and
// decompresses them for busybox insmod. Debian's package ships no modules.dep (depmod runs
// in its postinst), so dependencies come from each module's .modinfo when it is absent.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ImageError } from './image-error.js';
import { formatModulesDep, isModuleFile, modinfoDeps, moduleLoadOrder, moduleName, parseModinfo, parseModulesBuiltin, parseModulesDep } from './module-deps.js';
import type { ModuleGraph } from './module-deps.js';
import { checkTool } from './run-tool.js';

export interface KernelTree {
  /** The kernel release, e.g. 6.12.117+deb13-riscv64 (uname -r in the guest). */
  version: string;
  /** Absolute path of lib/modules/VERSION in the extracted package. */
  modulesDir: string;
}

/** Finds lib/modules/VERSION (under usr/ on merged-/usr systems) in an extracted kernel package. */
export function findKernelTree(root: string): KernelTree {
  for (const base of ['usr/lib/modules', 'lib/modules']) {
    const dir = join(root, base);
    if (!existsSync(dir)) continue;
    const versions = readdirSync(dir).filter((name) => existsSync(join(dir, name, 'kernel')));
    if (versions.length === 1) return { version: versions[0]!, modulesDir: join(dir, versions[0]!) };
    if (versions.length > 1) {
      throw new ImageError('bad-package', `the kernel package holds modules for several kernels (${versions.join(', ')}); expected one`, { path: dir });
    }
  }
  throw new ImageError('bad-package', `the kernel package has no lib/modules/VERSION/kernel directory under ${root}`, { path: root });
}

/** The module's ELF bytes, whatever compression the package used. */
export async function decompressModule(path: string): Promise<Buffer> {
  if (path.endsWith('.xz')) return (await checkTool('xz', ['-dc', '--', path], { step: 'modules' })).stdout;
  if (path.endsWith('.zst')) return (await checkTool('zstd', ['-dcq', '--', path], { step: 'modules' })).stdout;
  if (path.endsWith('.gz')) return gunzipSync(readFileSync(path));
  return readFileSync(path);
}

function indexModules(modulesDir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (isModuleFile(entry.name)) index.set(moduleName(entry.name), relative(modulesDir, path));
    }
  };
  walk(modulesDir);
  return index;
}

export interface GuestModule {
  name: string;
  /** Path relative to lib/modules/VERSION, uncompressed (kernel/fs/ext4/ext4.ko). */
  path: string;
  data: Buffer;
}

export interface ModuleSet {
  /** In load order: each after the modules it needs. */
  modules: GuestModule[];
  /** modules.dep for exactly these modules, with their uncompressed paths. */
  modulesDep: string;
}

const uncompressed = (path: string): string => path.replace(/\.(xz|gz|zst)$/, '');

/** The modules `targets` need (built-in ones skipped), decompressed, in load order. */
export async function collectModules(tree: KernelTree, targets: readonly string[]): Promise<ModuleSet> {
  const { modulesDir } = tree;
  const builtinFile = join(modulesDir, 'modules.builtin');
  const builtin = existsSync(builtinFile) ? parseModulesBuiltin(readFileSync(builtinFile, 'utf8')) : new Set<string>();
  const depFile = join(modulesDir, 'modules.dep');
  const decompressed = new Map<string, Buffer>();
  let graph: ModuleGraph;
  if (existsSync(depFile)) {
    graph = parseModulesDep(readFileSync(depFile, 'utf8'));
  } else {
    const index = indexModules(modulesDir);
    graph = new Map();
    const queue = [...targets];
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const path = index.get(name);
      if (graph.has(name) || builtin.has(name) || path === undefined) continue; // a missing one is reported by moduleLoadOrder
      const data = await decompressModule(join(modulesDir, path));
      decompressed.set(name, data);
      const { depends, softPre } = modinfoDeps(parseModinfo(data, path));
      // Soft dependencies are hints; those naming an alias (ext4's "crc32c") rather than a module are dropped.
      const deps = [...softPre.filter((dep) => index.has(dep) && dep !== name), ...depends];
      graph.set(name, { path, deps });
      queue.push(...deps);
    }
  }
  const order = moduleLoadOrder(graph, targets, builtin);
  const modules: GuestModule[] = [];
  for (const name of order) {
    const path = graph.get(name)!.path;
    const data = decompressed.get(name) ?? (await decompressModule(join(modulesDir, path)));
    modules.push({ name, path: uncompressed(path), data });
  }
  return { modules, modulesDep: formatModulesDep(graph, order, (name) => uncompressed(graph.get(name)!.path)) };
}
