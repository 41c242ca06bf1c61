// The one error class of the master's security primitives: a stable `kind` and, for files, the path.

export type SecurityErrorKind =
  | 'bad-encoding' // base32 or token text with characters or a length it cannot have
  | 'bad-argument' // a value out of range: a secret too short, an unknown token scope, a colon in a TOTP label
  | 'bad-key-file' // the master key file has the wrong size, is not a file, or is open to group/other
  | 'bad-sealed' // a sealed value not in a format or version this master writes
  | 'tampered' // a sealed value whose authentication failed: altered, another key, or other associated data
  | 'bad-tls-files'; // tls.crt/tls.key: only one of them, or they cannot be read as PEM

export class SecurityError extends Error {
  override readonly name = 'SecurityError';

  constructor(
    readonly kind: SecurityErrorKind,
    message: string,
    options?: { cause?: unknown; path?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.path = options?.path;
  }

  /** The file concerned, for key and certificate files. */
  readonly path: string | undefined;
}
