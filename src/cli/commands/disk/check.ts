// `vireo disk check`: a metadata consistency check, optionally repairing leaked clusters.

import { checkImage } from '../../../storage/image-ops/check-image.js';
import type { DiskVerb } from './disk-io.js';
import { formatFields, printJson } from './disk-output.js';
import { help, parseVerbArgs } from './verb-args.js';

/** Exit statuses of check besides 0 (clean), 1 (could not check) and 2 (usage). */
export const EXIT_LEAKS = 3;
export const EXIT_CORRUPT = 4;

export const checkVerb: DiskVerb = {
  name: 'check',
  summary: 'Check an image\'s metadata for corruption and leaked clusters',
  help: `Usage: vireo disk check [--repair] [--json] FILE

Walks every table of a qcow2 image and compares the references it finds with the stored
refcounts, like qemu-img check. Leaked clusters (space counted as used that nothing
uses) are harmless; corruption can lose data. A raw image has no metadata and is clean.

Options:
  --repair   Correct the refcounts of leaked clusters
  --json     Print {"filename", "format", "clean": boolean, "corruptions", "leaks",
             "repairedLeaks", "problems": [description, ...]}

Exit status: 0 clean (or only leaks that --repair fixed), 1 the image could not be
checked, 2 usage error, 3 leaked clusters only, 4 corruption.
`,
  async run(argv, io) {
    const args = parseVerbArgs('disk check', argv, { repair: { type: 'boolean' }, json: { type: 'boolean' } }, ['FILE']);
    if (args === null) return help(io, this.help);
    const filename = args.positionals[0]!;
    const result = await checkImage(filename, { repair: args.values.repair === true });
    const leaks = result.leaks - result.repairedLeaks;
    const clean = result.corruptions === 0 && leaks === 0;
    if (args.values.json) printJson(io, { filename, format: result.format, clean, corruptions: result.corruptions, leaks: result.leaks, repairedLeaks: result.repairedLeaks, problems: result.problems });
    else {
      const rows: Array<[string, string]> = [['image', filename], ['format', result.format], ['corruptions', String(result.corruptions)], ['leaked clusters', String(result.leaks)]];
      if (args.values.repair) rows.push(['repaired leaks', String(result.repairedLeaks)]);
      rows.push(['result', clean ? 'no errors were found' : result.corruptions > 0 ? 'the image is corrupt' : 'leaked clusters only (harmless; --repair frees them)']);
      io.out(formatFields(rows) + result.problems.map((p) => `  ${p}\n`).join(''));
    }
    return result.corruptions > 0 ? EXIT_CORRUPT : leaks > 0 ? EXIT_LEAKS : 0;
  },
};
