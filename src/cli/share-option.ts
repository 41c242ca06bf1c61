// `vireo run --share DIR,tag=NAME[,ro]`: a host directory the guest mounts over virtio-9p.

import type { ShareConfig } from '../machine/virtio-devices.js';
import { UsageError } from './usage-error.js';

export const SHARE_OPTION_HELP = 'DIR,tag=NAME[,ro]';

export function parseShareOption(text: string): ShareConfig {
  const [root, ...parts] = text.split(',');
  if (root === undefined || root === '') throw new UsageError('run', `--share takes ${SHARE_OPTION_HELP}, got '${text}'`);
  let tag: string | undefined;
  let readOnly = false;
  for (const part of parts) {
    if (part === 'ro') readOnly = true;
    else if (part.startsWith('tag=') && part.length > 4) tag = part.slice(4);
    else throw new UsageError('run', `--share does not know '${part}' in '${text}'; it takes tag=NAME and ro`);
  }
  if (tag === undefined) throw new UsageError('run', `--share ${root} needs a tag the guest mounts it by, e.g. ${root},tag=share`);
  return { root, tag, readOnly };
}
