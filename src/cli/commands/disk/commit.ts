// `vireo disk commit`: writes an overlay's data into its backing file and empties the overlay.

import { commitImage } from '../../../storage/image-ops/commit-image.js';
import type { DiskVerb } from './disk-io.js';
import { describeSize, formatFields, printJson, progressLines } from './disk-output.js';
import { help, parseVerbArgs } from './verb-args.js';

export const commitVerb: DiskVerb = {
  name: 'commit',
  summary: 'Write a qcow2 overlay\'s data into its backing file and empty the overlay',
  help: `Usage: vireo disk commit [--progress] [--json] FILE

Copies every cluster the qcow2 image FILE holds itself (written data and zeroed ranges)
into its backing file, growing the backing file first if it is smaller, and syncs it.
Then FILE is replaced by an empty overlay with the same size, cluster size and backing
file, so it reads the same as before. An overlay with internal snapshots keeps its data
(and snapshots) instead. Every other image over the same backing file (linked clones)
sees the change too. Not while a VM uses either image.

Options:
  --progress   Print percentage lines on stderr (the default on a terminal)
  --json       Print {"filename", "base", "committedBytes", "emptied": boolean}
`,
  async run(argv, io) {
    const args = parseVerbArgs('disk commit', argv, { progress: { type: 'boolean' }, json: { type: 'boolean' } }, ['FILE']);
    if (args === null) return help(io, this.help);
    const filename = args.positionals[0]!;
    const result = await commitImage(filename, { onProgress: progressLines(io, 'commit', args.values.progress === true || io.stderrIsTty) });
    if (args.values.json) printJson(io, { filename, ...result });
    else {
      io.out(formatFields([
        ['image', filename], ['committed into', result.base], ['data committed', describeSize(result.committedBytes)],
        ['overlay', result.emptied ? 'emptied' : 'kept as it was (it has internal snapshots)'],
      ]));
    }
    return 0;
  },
};
