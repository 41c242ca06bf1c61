// A linked clone: a new qcow2 overlay whose backing file is the template, so the clone starts
// with the template's contents and takes space only for what is written to it. The template
// must not change afterwards (every clone reads through to it).

import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { createImage } from './create-image.js';
import { type ImageFormat, detectImageFormat } from './image-format.js';
import { ImageOpsError } from './image-ops-error.js';

export interface CloneResult {
  /** The backing file name stored in the clone. */
  backingFile: string;
  backingFormat: 'raw' | 'qcow2';
}

/**
 * Creates `clonePath` over `template`. The stored name is the template's path relative to the
 * clone's directory (so the pair can move together), or absolute when `template` was given absolute.
 * The template's format is detected unless given; it is stored in the clone either way.
 */
export async function cloneImage(template: string, clonePath: string, options: { templateFormat?: ImageFormat } = {}): Promise<CloneResult> {
  const exists = await stat(clonePath).then(() => true, () => false);
  if (exists) throw new ImageOpsError('exists', `cannot clone ${template} to ${clonePath}: ${clonePath} exists; remove it or choose another path`, clonePath);
  const backingFormat = options.templateFormat ?? (await detectImageFormat(template));
  const backingFile = isAbsolute(template) ? template : relative(dirname(resolve(clonePath)), resolve(template));
  await createImage(clonePath, { format: 'qcow2', backingFile, backingFormat });
  return { backingFile, backingFormat };
}
