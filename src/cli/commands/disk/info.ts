// `vireo disk info`: what an image is (format, sizes, backing chain, snapshots, flags).

import { imageInfo } from '../../../storage/image-ops/image-info.js';
import type { DiskVerb } from './disk-io.js';
import { describeSize, formatFields, formatTable, printJson } from './disk-output.js';
import { help, imageFormatOption, parseVerbArgs } from './verb-args.js';

export const infoVerb: DiskVerb = {
  name: 'info',
  summary: 'Show an image\'s format, sizes, backing chain, snapshots and flags',
  help: `Usage: vireo disk info [-f raw|qcow2] [--json] FILE

Shows the format of FILE (detected from its header: qcow2, else raw), its virtual size,
the bytes it takes on the host's disk, and for qcow2 the version, cluster size, backing
chain, internal snapshots and the dirty and corrupt flags. Reads only; works on images
that are dirty, marked corrupt or whose backing file is missing.

Options:
  -f, --format FMT  FILE's format (default: detected from its header)
  --json            Print one JSON object:
                    {"filename": string, "format": "raw"|"qcow2", "virtualSize": bytes,
                     "fileSize": bytes, "actualSize": bytes on the host's disk,
                     "version": 2|3|null, "clusterSize": bytes|null,
                     "backingFile": name as stored|null, "backingFormat": "raw"|"qcow2"|null,
                     "backingChain": [{"filename", "format", "virtualSize", "error"?}] nearest first,
                     "snapshots": [{"id", "name", "virtualSize", "date": ISO 8601}],
                     "dirty": boolean, "corrupt": boolean}
`,
  async run(argv, io) {
    const args = parseVerbArgs('disk info', argv, { format: { type: 'string', short: 'f' }, json: { type: 'boolean' } }, ['FILE']);
    if (args === null) return help(io, this.help);
    const info = await imageInfo(args.positionals[0]!, { format: imageFormatOption('disk info', '--format', args.values.format) });
    if (args.values.json) {
      printJson(io, info);
      return 0;
    }
    const rows: Array<[string, string]> = [
      ['image', info.filename], ['format', info.version === null ? info.format : `${info.format} (version ${info.version})`],
      ['virtual size', describeSize(info.virtualSize)], ['disk size', describeSize(info.actualSize)],
    ];
    if (info.clusterSize !== null) rows.push(['cluster size', String(info.clusterSize)]);
    if (info.backingFile !== null) rows.push(['backing file', `${info.backingFile} (${info.backingFormat ?? 'format unknown'})`]);
    info.backingChain.forEach((entry, i) => {
      const what = entry.error ?? `${entry.format}, ${describeSize(entry.virtualSize ?? 0)}`;
      rows.push([`backing ${i + 1}`, `${entry.filename}: ${what}`]);
    });
    if (info.format === 'qcow2') rows.push(['dirty', info.dirty ? 'yes' : 'no'], ['corrupt', info.corrupt ? 'yes' : 'no']);
    let text = formatFields(rows);
    if (info.snapshots.length > 0) {
      text += `snapshots:\n${formatTable(['ID', 'NAME', 'SIZE', 'DATE'], info.snapshots.map((s) => [s.id, s.name, String(s.virtualSize), s.date]))}`;
    }
    io.out(text);
    return 0;
  },
};
