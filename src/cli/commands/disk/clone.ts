// `vireo disk clone`: a linked clone (a qcow2 overlay) of a template image.

import { cloneImage } from '../../../storage/image-ops/clone-image.js';
import type { DiskVerb } from './disk-io.js';
import { formatFields, printJson } from './disk-output.js';
import { help, imageFormatOption, parseVerbArgs } from './verb-args.js';

export const cloneVerb: DiskVerb = {
  name: 'clone',
  summary: 'Create a linked clone: a qcow2 overlay with a template as its backing file',
  help: `Usage: vireo disk clone [-F raw|qcow2] [--json] TEMPLATE CLONE

Creates CLONE (which must not exist), a qcow2 image that reads TEMPLATE (raw or qcow2)
until written; it takes space only for what the VM writes. TEMPLATE must not change
afterwards. The backing name stored is TEMPLATE relative to CLONE's directory, or
absolute when TEMPLATE is given absolute.

Options:
  -F, --template-format FMT  TEMPLATE's format (default: detected from its header)
  --json                     Print {"filename", "backingFile", "backingFormat"}
`,
  async run(argv, io) {
    const args = parseVerbArgs('disk clone', argv, { 'template-format': { type: 'string', short: 'F' }, json: { type: 'boolean' } }, ['TEMPLATE', 'CLONE']);
    if (args === null) return help(io, this.help);
    const [template, clone] = args.positionals as [string, string];
    const result = await cloneImage(template, clone, { templateFormat: imageFormatOption('disk clone', '--template-format', args.values['template-format']) });
    if (args.values.json) printJson(io, { filename: clone, ...result });
    else io.out(formatFields([['created', clone], ['backing file', `${result.backingFile} (${result.backingFormat})`]]));
    return 0;
  },
};
