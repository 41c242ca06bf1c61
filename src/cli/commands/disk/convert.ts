// `vireo disk convert`: copies an image into a new raw or qcow2 image, flattening backing files.

import { convertImage } from '../../../storage/image-ops/convert-image.js';
import { UsageError } from '../../usage-error.js';
import type { DiskVerb } from './disk-io.js';
import { describeSize, formatFields, printJson, progressLines } from './disk-output.js';
import { parseClusterSize } from './parse-size.js';
import { help, imageFormatOption, parseVerbArgs } from './verb-args.js';

const COMMAND = 'disk convert';

export const convertVerb: DiskVerb = {
  name: 'convert',
  summary: 'Copy an image to a new raw or qcow2 image (flattening its backing chain)',
  help: `Usage: vireo disk convert -O raw|qcow2 [options] SOURCE OUTPUT

Writes OUTPUT (which must not exist) with the guest-visible contents of SOURCE: a backing
chain is flattened into it, zeros are left unallocated (holes in raw), internal snapshots
are not copied. SOURCE's format is detected from its header.

Options:
  -O, --output-format FMT  raw or qcow2 (required)
  -f, --format FMT         SOURCE's format, raw or qcow2 (default: detected). Give it for
                           images a guest wrote: a guest can write a qcow2 header into
                           a raw disk, naming any host file as its backing file
  --cluster-size SIZE      qcow2 output cluster size, a power of two from 512 to 2M
  --progress               Print percentage lines on stderr (the default on a terminal)
  --json                   Print {"source", "filename", "format", "virtualSize",
                           "dataBytes": guest bytes written (the rest was zeros)}
`,
  async run(argv, io) {
    const args = parseVerbArgs(COMMAND, argv, {
      'output-format': { type: 'string', short: 'O' }, format: { type: 'string', short: 'f' }, 'cluster-size': { type: 'string' },
      progress: { type: 'boolean' }, json: { type: 'boolean' },
    }, ['SOURCE', 'OUTPUT']);
    if (args === null) return help(io, this.help);
    const { values } = args;
    const [source, output] = args.positionals as [string, string];
    const outputFormat = imageFormatOption(COMMAND, '--output-format', values['output-format']);
    if (outputFormat === undefined) throw new UsageError(COMMAND, 'missing -O raw|qcow2 (the output format)');
    const clusterBits = values['cluster-size'] === undefined ? undefined : parseClusterSize(COMMAND, values['cluster-size']);
    if (clusterBits !== undefined && outputFormat !== 'qcow2') throw new UsageError(COMMAND, '--cluster-size applies to qcow2 output only');
    const result = await convertImage(source, output, {
      outputFormat, clusterBits, inputFormat: imageFormatOption(COMMAND, '--format', values.format), onProgress: progressLines(io, 'convert', values.progress === true || io.stderrIsTty),
    });
    if (values.json) printJson(io, { source, filename: output, format: outputFormat, virtualSize: result.virtualSize, dataBytes: result.dataBytes });
    else io.out(formatFields([['created', output], ['format', outputFormat], ['virtual size', describeSize(result.virtualSize)], ['data written', describeSize(result.dataBytes)]]));
    return 0;
  },
};
