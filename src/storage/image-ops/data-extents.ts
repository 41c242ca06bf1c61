// The ranges of an image's guest disk that may hold non-zero bytes, through its whole backing
// chain: a range is data where the first layer (from the top) that holds it holds data; it is
// zeros where that layer holds a zero cluster, where no layer holds it, or past the end of a
// smaller backing file. Convert reads only these ranges, so a large thin disk copies quickly.

import { stat } from 'node:fs/promises';
import { Qcow2Image, type Qcow2Extent } from '../qcow2/qcow2-image.js';
import { type ImageFormat, detectImageFormat, isImageFormat } from './image-format.js';
import { readQcow2Header, resolveBacking } from './image-info.js';

export interface ByteRange {
  offset: number;
  length: number;
}

/** Sorted, disjoint ranges of [0, size) of the image at `path` (of `topFormat`, detected when absent) that may hold data. */
export async function dataExtents(path: string, size: number, topFormat?: ImageFormat): Promise<ByteRange[]> {
  const data: ByteRange[] = [];
  let undecided: ByteRange[] = size > 0 ? [{ offset: 0, length: size }] : [];
  let layer: string | null = path;
  let format = topFormat ?? (await detectImageFormat(path));
  // The backing chain was checked (depth, loops) when the caller opened the image.
  while (layer !== null && undecided.length > 0) {
    if (format === 'raw') {
      const end = (await stat(layer)).size;
      data.push(...clip(undecided, end));
      break;
    }
    const image = await Qcow2Image.open(layer, { readOnly: true });
    let extents: Qcow2Extent[];
    try {
      extents = image.size === 0 ? [] : await image.allocationMap(0, Math.min(image.size, size));
    } finally {
      await image.close();
    }
    const next: ByteRange[] = [];
    for (const e of extents) {
      const parts = overlap(undecided, e);
      if (e.state === 'data') data.push(...parts);
      else if (e.state === 'unallocated') next.push(...parts);
    }
    undecided = next;
    const header = await readQcow2Header(layer);
    if (header.backingFile === null) break;
    const backing = resolveBacking(layer, header.backingFile);
    format = header.backingFormat !== null && isImageFormat(header.backingFormat) ? header.backingFormat : await detectImageFormat(backing);
    layer = backing;
  }
  return merge(data);
}

/** The parts of `ranges` that lie inside `extent`. */
function overlap(ranges: readonly ByteRange[], extent: ByteRange): ByteRange[] {
  const out: ByteRange[] = [];
  const end = extent.offset + extent.length;
  for (const r of ranges) {
    const start = Math.max(r.offset, extent.offset);
    const stop = Math.min(r.offset + r.length, end);
    if (stop > start) out.push({ offset: start, length: stop - start });
  }
  return out;
}

/** The parts of `ranges` below `end`. */
function clip(ranges: readonly ByteRange[], end: number): ByteRange[] {
  return overlap(ranges, { offset: 0, length: end });
}

function merge(ranges: ByteRange[]): ByteRange[] {
  ranges.sort((a, b) => a.offset - b.offset);
  const out: ByteRange[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && last.offset + last.length === r.offset) last.length += r.length;
    else out.push({ ...r });
  }
  return out;
}
