// A consistency check of an image's metadata like `qemu-img check`. A raw image has no
// metadata, so it is always clean.

import type { Qcow2CheckResult } from '../qcow2/check-qcow2.js';
import { type ImageFormat, detectImageFormat, openImage } from './image-format.js';

export interface ImageCheckResult extends Qcow2CheckResult {
  format: ImageFormat;
}

export async function checkImage(path: string, options: { repair?: boolean } = {}): Promise<ImageCheckResult> {
  const format = await detectImageFormat(path);
  if (format === 'raw') return { format, leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] };
  const image = await openImage(path, { writable: options.repair === true, format });
  try {
    return { format, ...(await image.qcow2!.check({ repair: options.repair === true })) };
  } finally {
    await image.close();
  }
}
