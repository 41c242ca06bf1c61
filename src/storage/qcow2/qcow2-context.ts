// What the parts of an open qcow2 image share: its geometry, its file and metadata, and the
// virtual size, which resize and snapshot revert change for all of them at once.

import type { BackingImage } from './backing-image.js';
import type { ClusterMap } from './cluster-map.js';
import type { ImageFile } from './image-file.js';
import type { Qcow2SpaceGuard } from './qcow2-image.js';
import type { RefcountTable } from './refcount-table.js';

export interface Qcow2Context {
  readonly path: string;
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly clusterSize: number;
  readonly file: ImageFile;
  readonly refcounts: RefcountTable;
  readonly map: ClusterMap;
  readonly backing: BackingImage | null;
  /** Null when the image is read-only or nobody limits its growth. */
  readonly space: Qcow2SpaceGuard | null;
  /** The virtual disk size in bytes. */
  size: number;
}
