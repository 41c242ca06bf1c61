// The one error class of src/images: building the Debian guest image from Debian's packages.
// `kind` is stable for callers and tests; the message says what failed and what to do.

export type ImageErrorKind =
  | 'missing-tool' // a host program (apt-get, mke2fs, xz, ...) is not installed
  | 'no-mirror' // the host's apt sources name no Debian mirror
  | 'no-keyring' // no Debian archive keyring to check the mirror's signatures with
  | 'mirror-unreachable' // apt could not fetch the suite's index from the mirror
  | 'untrusted-mirror' // the index's signature does not check out with the keyring
  | 'package-not-found' // the suite has no such package (or no riscv64 build of it)
  | 'apt-failed' // apt-get / apt-cache failed for another reason
  | 'tool-failed' // dpkg-deb, xz, mke2fs or debugfs failed
  | 'hash-mismatch' // a downloaded .deb does not match the index
  | 'bad-package' // a package lacks a file the image needs, or the file is malformed
  | 'bad-modules' // kernel modules are missing or their dependencies form a cycle
  | 'bad-archive' // a cpio archive could not be written or read
  | 'bad-sources' // an apt sources file could not be parsed
  | 'bad-manifest' // manifest.json is malformed
  | 'second-stage-failed' // the install's second stage (dpkg in a Vireo VM) did not finish
  | 'bad-option' // an option of the complete image (user name, size, key file) is not usable
  | 'locked'; // another build holds the cache's lock for too long

export interface ImageErrorContext {
  /** The build step, as reported to onProgress. */
  step?: string;
  path?: string;
  package?: string;
  command?: string;
  /** Output of the failed command, trimmed to its last lines. */
  output?: string;
}

export class ImageError extends Error {
  override readonly name = 'ImageError';

  constructor(
    readonly kind: ImageErrorKind,
    message: string,
    readonly context: ImageErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
