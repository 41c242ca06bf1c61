// The migration destination as users write it: tcp:HOST:PORT, with an IPv6 HOST in brackets
// (tcp:[::1]:4444). Shared by the server, which validates requests, and the CLI.

import type { MigrationTarget } from './vm-controller.js';

export const MIGRATION_TARGET_PATTERN = '^tcp:.+:[0-9]+$';

/** The target in `text`, or a message saying what is wrong with it. */
export function parseMigrationTarget(text: string): MigrationTarget | string {
  const match = /^tcp:(.+):([0-9]+)$/u.exec(text);
  if (match === null) return `'${text}' is not tcp:HOST:PORT`;
  let host = match[1]!;
  const port = Number(match[2]);
  if (host.startsWith('[') !== host.endsWith(']')) return `'${text}' has an unclosed bracket around its host`;
  if (host.startsWith('[')) host = host.slice(1, -1);
  else if (host.includes(':')) return `'${text}' has an IPv6 host; write it in brackets: tcp:[${host}]:${match[2]}`;
  if (host === '' || /[\s/]/u.test(host)) return `'${text}' has no valid host`;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `'${text}' has port ${match[2]}; a port is 1 to 65535`;
  return { host, port };
}
