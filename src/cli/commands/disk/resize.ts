// `vireo disk resize`: grows an image's virtual disk.

import { openImage } from '../../../storage/image-ops/image-format.js';
import { resizeImage } from '../../../storage/image-ops/resize-image.js';
import type { DiskVerb } from './disk-io.js';
import { describeSize, formatFields, printJson } from './disk-output.js';
import { parseDiskSize } from './parse-size.js';
import { help, parseVerbArgs } from './verb-args.js';

const COMMAND = 'disk resize';

export const resizeVerb: DiskVerb = {
  name: 'resize',
  summary: 'Grow an image\'s virtual disk',
  help: `Usage: vireo disk resize [--json] FILE [+]SIZE

Sets the virtual size of FILE to SIZE, or grows it by SIZE with a leading +. SIZE is a
number of bytes with an optional suffix K, M, G or T (powers of 1024), a multiple of 512.
Shrinking is refused (it would lose data). The guest's partitions and file systems are
not changed: grow them inside the guest.

Options:
  --json   Print {"filename", "oldSize", "virtualSize"}
`,
  async run(argv, io) {
    const args = parseVerbArgs(COMMAND, argv, { json: { type: 'boolean' } }, ['FILE', 'SIZE']);
    if (args === null) return help(io, this.help);
    const [filename, sizeText] = args.positionals as [string, string];
    const relative = sizeText.startsWith('+');
    const amount = parseDiskSize(COMMAND, relative ? sizeText.slice(1) : sizeText);
    let target = amount;
    if (relative) {
      const image = await openImage(filename);
      target = image.size + amount;
      await image.close();
    }
    const oldSize = await resizeImage(filename, target);
    if (args.values.json) printJson(io, { filename, oldSize, virtualSize: target });
    else io.out(formatFields([['image', filename], ['old size', describeSize(oldSize)], ['new size', describeSize(target)]]));
    return 0;
  },
};
