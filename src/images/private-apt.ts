// apt with a private configuration: its own sources list (one suite, one architecture), its
// own index, cache and empty dpkg status under the image cache, so the host's package state
// is neither read nor changed. Nothing here runs a riscv64 program.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebianMirror } from './apt-sources.js';
import { parseDeb822 } from './deb822.js';
import { ImageError } from './image-error.js';
import { runTool, tail } from './run-tool.js';
import type { ToolResult } from './run-tool.js';

/** What the suite's index says about one package version. */
export interface PackageRecord {
  name: string;
  version: string;
  architecture: string;
  /** sha256 of the .deb, from the signed index. */
  sha256: string;
  size: number;
  depends: string;
  /** The index's Priority field (required, important, standard, optional), or ''. */
  priority: string;
}

export interface PrivateAptOptions {
  /** Directory for the configuration, index, status and downloaded .debs. */
  dir: string;
  mirror: DebianMirror;
  /** OpenPGP keyring that signs the suite. */
  keyring: string;
  suite: string;
  architecture: string;
}

/** Ordered by how specific the symptom is; the first match names the failure. */
const APT_FAILURES: ReadonlyArray<[RegExp, 'untrusted-mirror' | 'mirror-unreachable' | 'package-not-found']> = [
  [/NO_PUBKEY|EXPKEYSIG|BADSIG|not signed|signatures? (couldn't|could not) be verified|OpenPGP signature verification failed/i, 'untrusted-mirror'],
  [/Could not resolve|Failed to fetch|Unable to connect|Could not connect|Connection failed|Temporary failure|timed out|unreachable|No route to host|Connection refused|does not have a Release file|404\s+Not Found/i, 'mirror-unreachable'],
  [/Unable to locate package|has no installation candidate|No packages found|Can't select|was not found|Couldn't find any package/i, 'package-not-found'],
];

/** Sha256 of a file, hex, streamed so a 100 MB .deb is not read into memory at once. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 4 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The file name `apt-get download` gives a package: the epoch's colon is written %3a. */
export function debFileName(record: Pick<PackageRecord, 'name' | 'version' | 'architecture'>): string {
  return `${record.name}_${record.version.replace(/:/g, '%3a')}_${record.architecture}.deb`;
}

/** Names in a Depends field, first alternative of each, without version constraints or arch qualifiers. */
export function dependencyNames(depends: string): string[][] {
  return depends
    .split(',')
    .map((group) => group.split('|').map((alt) => alt.trim().split(/[\s(:]/, 1)[0]!).filter(Boolean))
    .filter((alts) => alts.length > 0);
}

export class PrivateApt {
  readonly dir: string;
  readonly archives: string;
  private readonly config: string;
  private settings: Array<[string, string]> = [];

  constructor(private readonly options: PrivateAptOptions) {
    this.dir = options.dir;
    this.archives = join(options.dir, 'archives');
    this.config = join(options.dir, 'etc', 'apt.conf');
  }

  /** Writes the private configuration; safe to repeat. */
  writeConfig(): void {
    const { dir, mirror, keyring, suite, architecture } = this.options;
    for (const sub of ['etc/sources.list.d', 'etc/preferences.d', 'etc/trusted.gpg.d', 'lists/partial', 'cache/archives/partial', 'state', 'archives']) {
      mkdirSync(join(dir, sub), { recursive: true });
    }
    writeFileSync(
      join(dir, 'etc', 'sources.list'),
      `deb [arch=${architecture} signed-by=${keyring}] ${mirror.uri} ${suite} main\n`,
    );
    // An empty dpkg status: apt then resolves as for a fresh system and never looks at the host's.
    const status = join(dir, 'state', 'status');
    if (!existsSync(status)) writeFileSync(status, '');
    const settings: Array<[string, string]> = [
      ['Dir::Etc::SourceList', join(dir, 'etc', 'sources.list')],
      ['Dir::Etc::SourceParts', join(dir, 'etc', 'sources.list.d')],
      ['Dir::Etc::Preferences', join(dir, 'etc', 'preferences')],
      ['Dir::Etc::PreferencesParts', join(dir, 'etc', 'preferences.d')],
      ['Dir::Etc::Trusted', join(dir, 'etc', 'trusted.gpg')],
      ['Dir::Etc::TrustedParts', join(dir, 'etc', 'trusted.gpg.d')],
      ['Dir::State', join(dir, 'state')],
      ['Dir::State::Lists', join(dir, 'lists')],
      ['Dir::State::status', status],
      ['Dir::Cache', join(dir, 'cache')],
      // Some hosts (container images) switch the binary cache off; each apt call would then reparse the index.
      ['Dir::Cache::pkgcache', join(dir, 'cache', 'pkgcache.bin')],
      ['Dir::Cache::srcpkgcache', join(dir, 'cache', 'srcpkgcache.bin')],
      ['APT::Architecture', architecture],
      ['APT::Architectures', architecture],
      ['APT::Install-Recommends', 'false'],
      ['APT::Install-Suggests', 'false'],
      ['Acquire::Languages', 'none'],
      ['Acquire::Retries', '2'],
      ['Acquire::http::Timeout', '30'],
      ['Acquire::https::Timeout', '30'],
    ];
    // As root apt downloads as user _apt, who cannot enter a private cache under /root.
    if (process.getuid?.() === 0) settings.push(['APT::Sandbox::User', 'root']);
    this.settings = settings;
    // The file lets a person rerun apt by hand (APT_CONFIG=...); our runs also pass every setting
    // with -o, because apt reads the host's apt.conf.d after APT_CONFIG and that would win.
    writeFileSync(this.config, settings.map(([key, value]) => `${key} "${value}";\n`).join(''));
  }

  private async apt(command: 'apt-get' | 'apt-cache', args: string[], step: string, cwd?: string, onLine?: (line: string) => void): Promise<ToolResult> {
    if (this.settings.length === 0) this.writeConfig();
    const options = this.settings.flatMap(([key, value]) => ['-o', `${key}=${value}`]);
    const result = await runTool(command, [...options, ...args], { cwd, env: { APT_CONFIG: this.config }, onLine, step });
    if (result.code !== 0) throw this.failure(command, args, result, step);
    return result;
  }

  private failure(command: string, args: string[], result: ToolResult, step: string): ImageError {
    const output = tail(result.stderr) || tail(result.stdout.toString('utf8'));
    const where = `${this.options.mirror.uri} ${this.options.suite} (${this.options.architecture})`;
    const found = APT_FAILURES.find(([pattern]) => pattern.test(result.stderr));
    const context = { step, command: `${command} ${args.join(' ')}`, output };
    switch (found?.[1]) {
      case 'mirror-unreachable':
        return new ImageError('mirror-unreachable', `cannot get the index of ${where} from the mirror; check the network, the proxy and the mirror's URL (it must carry ${this.options.suite}), or set VIREO_DEBIAN_MIRROR to another Debian mirror:\n${output}`, context);
      case 'untrusted-mirror':
        return new ImageError('untrusted-mirror', `the index of ${where} is not signed by a key in ${this.options.keyring}; upgrade the debian-archive-keyring package:\n${output}`, context);
      case 'package-not-found':
        return new ImageError('package-not-found', `a package the image needs is not in ${where}:\n${output}`, context);
      default:
        return new ImageError('apt-failed', `${command} ${args.join(' ')} failed with status ${result.code}:\n${output}`, context);
    }
  }

  /** Fetches the suite's signed index (a few MB). */
  async update(onLine?: (line: string) => void): Promise<void> {
    const args = ['-q', 'update'];
    const result = await this.apt('apt-get', args, 'update', undefined, onLine);
    // apt-get update exits 0 when an index "failed to download and was ignored" (keeping any
    // old one): treat that as the failure it is, and check the index is there.
    const lists = readdirSync(join(this.dir, 'lists'));
    if (/Failed to fetch|index files failed to download/.test(result.stderr) || !lists.some((name) => name.includes('_Packages'))) {
      throw this.failure('apt-get', args, { ...result, code: result.code || 100, stderr: result.stderr || 'Failed to fetch the Packages index' }, 'update');
    }
  }

  /** The candidate record of each `name` or `name=version`. */
  async show(specs: readonly string[]): Promise<PackageRecord[]> {
    if (specs.length === 0) return [];
    const { stdout } = await this.apt('apt-cache', ['show', '--no-all-versions', ...specs], 'resolve');
    const records = parseDeb822(stdout.toString('utf8')).map((stanza): PackageRecord => ({
      name: stanza['package'] ?? '',
      version: stanza['version'] ?? '',
      architecture: stanza['architecture'] ?? '',
      sha256: (stanza['sha256'] ?? '').toLowerCase(),
      size: Number(stanza['size'] ?? NaN),
      depends: [stanza['pre-depends'], stanza['depends']].filter(Boolean).join(', '),
      priority: stanza['priority'] ?? '',
    }));
    for (const record of records) {
      if (!record.name || !record.version || !/^[0-9a-f]{64}$/.test(record.sha256) || !Number.isFinite(record.size)) {
        throw new ImageError('apt-failed', `apt-cache show printed an incomplete record for ${record.name || specs.join(' ')}; run apt-get update again`, { step: 'resolve', package: record.name });
      }
    }
    return records;
  }

  /** The concrete kernel package a meta-package such as linux-image-riscv64 depends on. */
  async resolveKernel(metaPackage: string): Promise<PackageRecord> {
    const [meta] = await this.show([metaPackage]);
    const kernel = dependencyNames(meta?.depends ?? '')
      .flat()
      .find((name) => /^linux-image-\d\S*$/.test(name) && !/-(dbg|unsigned)$/.test(name));
    if (!kernel) {
      throw new ImageError('package-not-found', `${metaPackage} ${meta?.version ?? ''} depends on no linux-image-<version> package (Depends: ${meta?.depends || 'none'})`, { step: 'resolve', package: metaPackage });
    }
    const [record] = await this.show([kernel]);
    return record!;
  }

  /**
   * The packages a fresh system needs to have `names` installed, without recommends, as apt
   * resolves them (a simulated install against the empty status), sorted by name.
   */
  async resolveClosure(names: readonly string[]): Promise<PackageRecord[]> {
    const { stdout } = await this.apt('apt-get', ['-s', '-q', 'install', '--no-install-recommends', ...names], 'resolve');
    const pins = [...stdout.toString('utf8').matchAll(/^Inst (\S+) \((\S+) /gm)].map((m) => `${m[1]}=${m[2]}`);
    const records = await this.show(pins);
    return records.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Where a package's .deb is (or will be) kept. */
  debPath(record: PackageRecord): string {
    return join(this.archives, debFileName(record));
  }

  /** Downloads what is not already cached with the right hash; returns each package's .deb path. */
  async download(records: readonly PackageRecord[], onLine?: (line: string) => void): Promise<string[]> {
    const missing: PackageRecord[] = [];
    for (const record of records) {
      const path = this.debPath(record);
      if (!existsSync(path) || (await sha256File(path)) !== record.sha256) missing.push(record);
    }
    if (missing.length > 0) {
      await this.apt('apt-get', ['-q', 'download', ...missing.map((r) => `${r.name}=${r.version}`)], 'download', this.archives, onLine);
    }
    for (const record of missing) {
      const path = this.debPath(record);
      const actual = existsSync(path) ? await sha256File(path) : 'nothing';
      if (actual !== record.sha256) {
        throw new ImageError('hash-mismatch', `${path} has sha256 ${actual}, but the index says ${record.sha256}; delete it and run again`, { step: 'download', path, package: record.name });
      }
    }
    return records.map((record) => this.debPath(record));
  }
}
