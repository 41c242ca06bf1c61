// `vireo disk snapshot create|list|revert|delete`: a qcow2 image's internal snapshots.

import { openImage } from '../../../storage/image-ops/image-format.js';
import { ImageOpsError } from '../../../storage/image-ops/image-ops-error.js';
import type { Qcow2Image } from '../../../storage/qcow2/qcow2-image.js';
import { UsageError } from '../../usage-error.js';
import type { DiskVerb } from './disk-io.js';
import { formatFields, formatTable, printJson } from './disk-output.js';
import { help, parseVerbArgs } from './verb-args.js';

const ACTIONS = ['create', 'list', 'revert', 'delete'] as const;
type Action = (typeof ACTIONS)[number];
const PAST: Record<Exclude<Action, 'list'>, string> = { create: 'created', revert: 'reverted to', delete: 'deleted' };

export const snapshotVerb: DiskVerb = {
  name: 'snapshot',
  summary: 'Create, list, revert to or delete a qcow2 image\'s internal snapshots',
  help: `Usage: vireo disk snapshot create FILE NAME
       vireo disk snapshot list [--json] FILE
       vireo disk snapshot revert FILE NAME
       vireo disk snapshot delete FILE NAME

Internal snapshots of a qcow2 image (not while a VM uses it). create records the disk's
current contents as NAME; revert makes the disk read as it did then (writes since are
lost); delete frees the space only that snapshot used. revert and delete take a name or
an id.

Options:
  --json   list: print [{"id", "name", "virtualSize", "date": ISO 8601}];
           create, revert, delete: print {"filename", "action", "snapshot"}
`,
  async run(argv, io) {
    const [action, ...rest] = argv;
    if (action === '--help' || action === '-h') return help(io, this.help);
    if (action === undefined) throw new UsageError('disk snapshot', 'missing the action: create, list, revert or delete');
    if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError('disk snapshot', `unknown action '${action}': use create, list, revert or delete`);
    const command = `disk snapshot ${action}`;
    const args = parseVerbArgs(command, rest, { json: { type: 'boolean' } }, action === 'list' ? ['FILE'] : ['FILE', 'NAME']);
    if (args === null) return help(io, this.help);
    const [filename, name] = args.positionals as [string, string | undefined];
    const image = await openImage(filename, { writable: action !== 'list' });
    try {
      const qcow2 = requireQcow2(image.qcow2, filename);
      if (action === 'list') {
        const snapshots = qcow2.listSnapshots().map((s) => ({ id: s.id, name: s.name, virtualSize: s.size, date: s.date.toISOString() }));
        if (args.values.json) printJson(io, snapshots);
        else io.out(snapshots.length === 0 ? `${filename} has no snapshots\n` : formatTable(['ID', 'NAME', 'SIZE', 'DATE'], snapshots.map((s) => [s.id, s.name, String(s.virtualSize), s.date])));
        return 0;
      }
      const act = action as Exclude<Action, 'list'>;
      if (act === 'create') await qcow2.createSnapshot(name!);
      else if (act === 'revert') await qcow2.revertSnapshot(name!);
      else await qcow2.deleteSnapshot(name!);
      await qcow2.flush();
      if (args.values.json) printJson(io, { filename, action: act, snapshot: name });
      else io.out(formatFields([['image', filename], [`snapshot ${PAST[act]}`, name!]]));
      return 0;
    } finally {
      await image.close();
    }
  },
};

function requireQcow2(image: Qcow2Image | null, filename: string): Qcow2Image {
  if (image === null) throw new ImageOpsError('unsupported', `${filename} is a raw image, which has no snapshots; convert it to qcow2 first (vireo disk convert -O qcow2)`, filename);
  return image;
}
