// `vireo disk`: disk image operations, as qemu-img is to QEMU. One file per verb under disk/;
// the work itself is in src/storage/image-ops, which the host agent uses too.

import { ImageOpsError } from '../../storage/image-ops/image-ops-error.js';
import { Qcow2Error } from '../../storage/qcow2/qcow2-error.js';
import { UsageError } from '../usage-error.js';
import { checkVerb } from './disk/check.js';
import { cloneVerb } from './disk/clone.js';
import { commitVerb } from './disk/commit.js';
import { convertVerb } from './disk/convert.js';
import { createVerb } from './disk/create.js';
import { type DiskIo, type DiskVerb, processIo } from './disk/disk-io.js';
import { infoVerb } from './disk/info.js';
import { resizeVerb } from './disk/resize.js';
import { snapshotVerb } from './disk/snapshot.js';

const VERBS: readonly DiskVerb[] = [createVerb, infoVerb, checkVerb, snapshotVerb, cloneVerb, resizeVerb, convertVerb, commitVerb];

/** A file or format problem (missing file, not an image, corrupt, exists, ...). */
export const EXIT_IMAGE_ERROR = 1;

export const DISK_HELP = `Usage: vireo disk <verb> [options] FILE...

Creates, inspects and changes raw and qcow2 disk images (not while a VM uses them).
The format of an existing image is detected from its header: qcow2, else raw (a file
whose size is a multiple of 512). Sizes take the suffixes K, M, G, T (powers of 1024).

Verbs:
${VERBS.map((v) => `  ${v.name.padEnd(10)}${v.summary}\n`).join('')}
Every verb takes --json to print its result as JSON (the shape is in its --help).
Run 'vireo disk <verb> --help' for a verb's options.

Exit status: 0 done, 1 an image could not be used (the message says why), 2 usage
error; check also uses 3 (leaked clusters) and 4 (corruption).
`;

export function diskCommand(argv: string[]): Promise<number> {
  return runDisk(argv, processIo);
}

/** Runs `vireo disk ARGV` writing to `io`; UsageError propagates (main reports it with exit 2). */
export async function runDisk(argv: readonly string[], io: DiskIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError('disk', 'missing the verb');
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(DISK_HELP);
    return 0;
  }
  const verb = VERBS.find((v) => v.name === name);
  if (verb === undefined) throw new UsageError('disk', `unknown verb '${name}'`);
  try {
    return await verb.run(rest, io);
  } catch (e) {
    if (e instanceof ImageOpsError || e instanceof Qcow2Error) {
      io.err(`vireo disk ${name}: ${e.message}\n`);
      return EXIT_IMAGE_ERROR;
    }
    throw e;
  }
}
