// `vireo disk create`: a new empty raw or qcow2 image, optionally a qcow2 overlay on a backing file.

import { createImage } from '../../../storage/image-ops/create-image.js';
import { imageInfo } from '../../../storage/image-ops/image-info.js';
import { UsageError } from '../../usage-error.js';
import type { DiskVerb } from './disk-io.js';
import { describeSize, formatFields, printJson } from './disk-output.js';
import { parseClusterSize, parseDiskSize } from './parse-size.js';
import { help, imageFormatOption, parseVerbArgs } from './verb-args.js';

const COMMAND = 'disk create';

export const createVerb: DiskVerb = {
  name: 'create',
  summary: 'Create an empty raw or qcow2 image, or a qcow2 overlay on a backing file',
  help: `Usage: vireo disk create [-f qcow2|raw] [-b BACKING [-F raw|qcow2]] [options] FILE [SIZE]

Creates FILE (which must not exist) with a virtual size of SIZE bytes: a number with an
optional suffix K, M, G or T (powers of 1024), a multiple of 512. A qcow2 image takes space
only for what is written; a raw image is a sparse file. With -b, FILE is a qcow2 overlay
that reads BACKING until written, and SIZE defaults to BACKING's size.

Options:
  -f, --format FMT        qcow2 (default) or raw
  -b, --backing FILE      Backing file, stored as given (relative to FILE's directory)
  -F, --backing-format F  The backing file's format (default: detected from its header)
  --cluster-size SIZE     qcow2 cluster size, a power of two from 512 to 2M (default 64K)
  --json                  Print the result as JSON:
                          {"filename", "format", "virtualSize", "clusterSize",
                           "backingFile", "backingFormat"} (null where not applicable)
`,
  async run(argv, io) {
    const args = parseVerbArgs(COMMAND, argv, {
      format: { type: 'string', short: 'f' }, backing: { type: 'string', short: 'b' }, 'backing-format': { type: 'string', short: 'F' },
      'cluster-size': { type: 'string' }, json: { type: 'boolean' },
    }, ['FILE', '[SIZE]']);
    if (args === null) return help(io, this.help);
    const { values, positionals: [file, sizeText] } = args;
    const format = imageFormatOption(COMMAND, '--format', values.format) ?? 'qcow2';
    const backingFormat = imageFormatOption(COMMAND, '--backing-format', values['backing-format']);
    if (backingFormat !== undefined && values.backing === undefined) throw new UsageError(COMMAND, '--backing-format needs --backing FILE');
    if (sizeText === undefined && values.backing === undefined) throw new UsageError(COMMAND, 'missing SIZE (only an overlay, with -b, takes its size from its backing file)');
    await createImage(file!, {
      format,
      size: sizeText === undefined ? undefined : parseDiskSize(COMMAND, sizeText),
      backingFile: values.backing, backingFormat,
      clusterBits: values['cluster-size'] === undefined ? undefined : parseClusterSize(COMMAND, values['cluster-size']),
    });
    const info = await imageInfo(file!);
    const result = { filename: file!, format: info.format, virtualSize: info.virtualSize, clusterSize: info.clusterSize, backingFile: info.backingFile, backingFormat: info.backingFormat };
    if (values.json) printJson(io, result);
    else {
      const rows: Array<[string, string]> = [['created', file!], ['format', info.format], ['virtual size', describeSize(info.virtualSize)]];
      if (info.clusterSize !== null) rows.push(['cluster size', String(info.clusterSize)]);
      if (info.backingFile !== null) rows.push(['backing file', `${info.backingFile} (${info.backingFormat ?? 'unknown format'})`]);
      io.out(formatFields(rows));
    }
    return 0;
  },
};
