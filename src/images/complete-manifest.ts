// manifest.json of the complete Debian image: its packages (name, version, sha256), the
// configuration it was built with (no secrets), the image's sha256 and how long each stage
// took, so a later run can tell a complete cache from a partial one without the network.

import { ManifestFields } from './manifest-fields.js';
import type { ManifestOrigin } from './manifest-fields.js';

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
  /** The builder's revision: an image from an older one is built again. */
  revision: number;
  hostname: string;
  user: string;
  /** 'generated' (kept in the cache directory's password file), 'file' (from --password-file), or 'none' (locked). */
  password: 'generated' | 'file' | 'none';
  /** How many keys went into the user's authorized_keys. */
  authorizedKeys: number;
  sizeGiB: number;
  kernelParameters: string;
}

/** `kernelVersion` is the release of the image's own kernel, e.g. 6.12.117+deb13-riscv64. */
export interface CompleteManifest extends ManifestOrigin {
  format: typeof COMPLETE_MANIFEST_FORMAT;
  configuration: CompleteConfiguration;
  packages: CompletePackage[];
  output: { file: string; sha256: string; size: number; format: 'qcow2' };
  /** Partition UUIDs are sfdisk's; these are the file systems' (fstab and root= use them). */
  filesystems: { rootUuid: string; bootUuid: string };
  /** Seconds taken by each step (the second stage as the guest measured it, and on the host). */
  times: Record<string, number>;
  builtAt: string;
}

/** Checks the shape of a parsed manifest.json; throws a 'bad-manifest' ImageError naming the first problem. */
export function parseCompleteManifest(value: unknown, path = 'manifest.json'): CompleteManifest {
  const f = new ManifestFields(path, 'complete-image manifest');
  const root = f.root(value, COMPLETE_MANIFEST_FORMAT);
  const origin = f.origin(root);
  const config = f.object(root, 'configuration');
  const output = f.object(root, 'output');
  const filesystems = f.object(root, 'filesystems');
  const times = f.object(root, 'times');
  const packages = root['packages'];
  if (!Array.isArray(packages) || packages.length === 0) f.fail('packages must be a non-empty list');
  const password = f.str(config, 'password', 'configuration');
  if (password !== 'generated' && password !== 'file' && password !== 'none') f.fail('configuration.password must be generated, file or none');
  const file = f.str(output, 'file', 'output');
  if (file.includes('/') || file.startsWith('.')) f.fail('output.file must be a plain file name');
  if (output['format'] !== 'qcow2') f.fail('output.format must be qcow2');
  if (!Object.values(times).every((t) => typeof t === 'number' && t >= 0)) f.fail('times must map steps to seconds');
  return {
    format: COMPLETE_MANIFEST_FORMAT,
    ...origin,
    configuration: {
      revision: f.count(config, 'revision', 'configuration'),
      hostname: f.str(config, 'hostname', 'configuration'),
      user: f.str(config, 'user', 'configuration'),
      password: password as CompleteConfiguration['password'],
      authorizedKeys: f.count(config, 'authorizedKeys', 'configuration'),
      sizeGiB: f.count(config, 'sizeGiB', 'configuration'),
      kernelParameters: f.str(config, 'kernelParameters', 'configuration'),
    },
    packages: (packages as unknown[]).map((p, i): CompletePackage => {
      const where = `packages[${i}]`;
      if (!f.isObject(p)) return f.fail(`${where} must be an object`);
      if (typeof p['required'] !== 'boolean') f.fail(`${where}.required must be true or false`);
      return { name: f.str(p, 'name', where), version: f.str(p, 'version', where), architecture: f.str(p, 'architecture', where), sha256: f.hash(p, where), size: f.count(p, 'size', where), required: p['required'] as boolean };
    }),
    output: { file, sha256: f.hash(output, 'output'), size: f.count(output, 'size', 'output'), format: 'qcow2' },
    filesystems: { rootUuid: f.str(filesystems, 'rootUuid', 'filesystems'), bootUuid: f.str(filesystems, 'bootUuid', 'filesystems') },
    times: times as Record<string, number>,
    builtAt: typeof root['builtAt'] === 'string' ? root['builtAt'] : '',
  };
}
