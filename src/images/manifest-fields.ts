// Reading a parsed manifest.json field by field: each check names the field and the file, and
// fails with a 'bad-manifest' ImageError, for the default guest's manifest and the complete
// Debian's alike.

import { ImageError } from './image-error.js';

const SHA256 = /^[0-9a-f]{64}$/;

export type JsonObject = Record<string, unknown>;

/** Where an image came from: the fields both kinds of manifest start with. */
export interface ManifestOrigin {
  image: string;
  suite: string;
  architecture: string;
  mirror: { host: string; uri: string };
  kernelVersion: string;
}

export class ManifestFields {
  /** `what` names the manifest in messages, e.g. "image manifest". */
  constructor(private readonly path: string, private readonly what: string) {}

  fail(why: string): never {
    throw new ImageError('bad-manifest', `${this.path} is not a valid ${this.what}: ${why}; delete it to rebuild the image`, { path: this.path });
  }

  isObject(v: unknown): v is JsonObject {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  }

  object(o: JsonObject, key: string): JsonObject {
    const v = o[key];
    return this.isObject(v) ? v : this.fail(`${key} must be an object`);
  }

  str(o: JsonObject, key: string, where: string): string {
    const v = o[key];
    return typeof v === 'string' && v !== '' ? v : this.fail(`${where}.${key} must be a non-empty string`);
  }

  /** A whole number of at least 0; `unit` words the message ("a byte count"). */
  count(o: JsonObject, key: string, where: string, unit = 'a whole number'): number {
    const v = o[key];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : this.fail(`${where}.${key} must be ${unit}`);
  }

  hash(o: JsonObject, where: string): string {
    const v = this.str(o, 'sha256', where);
    return SHA256.test(v) ? v : this.fail(`${where}.sha256 must be 64 lower-case hex digits`);
  }

  /** The manifest itself as an object, with `format` checked. */
  root(value: unknown, format: number): JsonObject {
    if (!this.isObject(value)) return this.fail('not a JSON object');
    if (value['format'] !== format) this.fail(`format is ${JSON.stringify(value['format'])}, expected ${format}`);
    return value;
  }

  origin(value: JsonObject): ManifestOrigin {
    const mirror = this.isObject(value['mirror']) ? value['mirror'] : this.fail('mirror must be an object');
    return {
      image: this.str(value, 'image', 'manifest'),
      suite: this.str(value, 'suite', 'manifest'),
      architecture: this.str(value, 'architecture', 'manifest'),
      mirror: { host: this.str(mirror, 'host', 'mirror'), uri: this.str(mirror, 'uri', 'mirror') },
      kernelVersion: this.str(value, 'kernelVersion', 'manifest'),
    };
  }
}
