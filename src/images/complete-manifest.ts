// manifest.json of the complete Debian image: its packages (name, version, sha256), the
// configuration it was built with (no secrets), the image's sha256 and how long each stage
// took, so a later run can tell a complete cache from a partial one without the network.

import { ImageError } from './image-error.js';

export const COMPLETE_MANIFEST_FORMAT = 1;

export interface CompletePackage {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  size: number;
  /** Priority: required (unpacked on the host in the first stage). */
  required: boolean;
}

/** The build's settings as recorded: the password and keys themselves never are. */
export interface CompleteConfiguration {
  hostname: string;
  user: string;
  /** 'generated' (kept in the cache directory's password file), 'file' (from --password-file), or 'none' (locked). */
  password: 'generated' | 'file' | 'none';
  /** How many keys went into the user's authorized_keys. */
  authorizedKeys: number;
  sizeGiB: number;
  kernelParameters: string;
}

export interface CompleteManifest {
  format: typeof COMPLETE_MANIFEST_FORMAT;
  image: string;
  suite: string;
  architecture: string;
  mirror: { host: string; uri: string };
  /** Kernel release of the image's own kernel, e.g. 6.12.117+deb13-riscv64. */
  kernelVersion: string;
  configuration: CompleteConfiguration;
  packages: CompletePackage[];
  output: { file: string; sha256: string; size: number; format: 'qcow2' };
  /** Partition UUIDs are sfdisk's; these are the file systems' (fstab and root= use them). */
  filesystems: { rootUuid: string; bootUuid: string };
  /** Seconds taken by each step (the second stage as the guest measured it, and on the host). */
  times: Record<string, number>;
  builtAt: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Checks the shape of a parsed manifest.json; throws a 'bad-manifest' ImageError naming the first problem. */
export function parseCompleteManifest(value: unknown, path = 'manifest.json'): CompleteManifest {
  const fail = (why: string): never => {
    throw new ImageError('bad-manifest', `${path} is not a valid complete-image manifest: ${why}; delete it to rebuild the image`, { path });
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const object = (o: Record<string, unknown>, key: string): Record<string, unknown> => (isObject(o[key]) ? (o[key] as Record<string, unknown>) : fail(`${key} must be an object`));
  const str = (o: Record<string, unknown>, key: string, where: string): string => {
    const v = o[key];
    return typeof v === 'string' && v !== '' ? v : fail(`${where}.${key} must be a non-empty string`);
  };
  const count = (o: Record<string, unknown>, key: string, where: string): number => {
    const v = o[key];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(`${where}.${key} must be a whole number`);
  };
  const hash = (o: Record<string, unknown>, where: string): string => (SHA256.test(str(o, 'sha256', where)) ? (o['sha256'] as string) : fail(`${where}.sha256 must be 64 lower-case hex digits`));
  if (!isObject(value)) return fail('not a JSON object');
  if (value['format'] !== COMPLETE_MANIFEST_FORMAT) fail(`format is ${JSON.stringify(value['format'])}, expected ${COMPLETE_MANIFEST_FORMAT}`);
  const mirror = object(value, 'mirror');
  const config = object(value, 'configuration');
  const output = object(value, 'output');
  const filesystems = object(value, 'filesystems');
  const times = object(value, 'times');
  const packages = value['packages'];
  if (!Array.isArray(packages) || packages.length === 0) fail('packages must be a non-empty list');
  const password = str(config, 'password', 'configuration');
  if (password !== 'generated' && password !== 'file' && password !== 'none') fail('configuration.password must be generated, file or none');
  const file = str(output, 'file', 'output');
  if (file.includes('/') || file.startsWith('.')) fail('output.file must be a plain file name');
  if (output['format'] !== 'qcow2') fail('output.format must be qcow2');
  if (!Object.values(times).every((t) => typeof t === 'number' && t >= 0)) fail('times must map steps to seconds');
  return {
    format: COMPLETE_MANIFEST_FORMAT,
    image: str(value, 'image', 'manifest'),
    suite: str(value, 'suite', 'manifest'),
    architecture: str(value, 'architecture', 'manifest'),
    mirror: { host: str(mirror, 'host', 'mirror'), uri: str(mirror, 'uri', 'mirror') },
    kernelVersion: str(value, 'kernelVersion', 'manifest'),
    configuration: {
      hostname: str(config, 'hostname', 'configuration'),
      user: str(config, 'user', 'configuration'),
      password: password as CompleteConfiguration['password'],
      authorizedKeys: count(config, 'authorizedKeys', 'configuration'),
      sizeGiB: count(config, 'sizeGiB', 'configuration'),
      kernelParameters: str(config, 'kernelParameters', 'configuration'),
    },
    packages: (packages as unknown[]).map((p, i): CompletePackage => {
      const where = `packages[${i}]`;
      if (!isObject(p)) return fail(`${where} must be an object`);
      if (typeof p['required'] !== 'boolean') fail(`${where}.required must be true or false`);
      return { name: str(p, 'name', where), version: str(p, 'version', where), architecture: str(p, 'architecture', where), sha256: hash(p, where), size: count(p, 'size', where), required: p['required'] as boolean };
    }),
    output: { file, sha256: hash(output, 'output'), size: count(output, 'size', 'output'), format: 'qcow2' },
    filesystems: { rootUuid: str(filesystems, 'rootUuid', 'filesystems'), bootUuid: str(filesystems, 'bootUuid', 'filesystems') },
    times: times as Record<string, number>,
    builtAt: typeof value['builtAt'] === 'string' ? value['builtAt'] : '',
  };
}
