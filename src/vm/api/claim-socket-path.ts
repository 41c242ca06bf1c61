// Making a path free for the API socket: a socket left behind by a VM that is gone is removed,
// but a socket something still answers on, or any other file, is never touched.

import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { VmApiError } from './vm-api-error.js';

/** A socket that neither accepts nor refuses within this long is treated as in use. */
const PROBE_MS = 1000;

export async function claimSocketPath(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new VmApiError('listen-failed', `cannot check the API socket path ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  if (!stats.isSocket()) {
    throw new VmApiError('path-exists', `${path} exists and is not a socket; choose another --api path or remove the file`, { path });
  }
  const probe = await probeSocket(path);
  if (probe !== 'stale') {
    const why = probe === 'alive' ? 'another process serves it (is another VM using it?)' : `it cannot be probed (${probe})`;
    throw new VmApiError('socket-in-use', `the API socket ${path} is in use: ${why}; choose another --api path or stop that VM`, { path });
  }
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new VmApiError('listen-failed', `cannot remove the stale API socket ${path}: ${(e as Error).message}`, { path }, { cause: e });
    }
  }
}

/** 'stale' when nothing listens on the socket at `path` (connection refused), 'alive' when something does, else the error code. */
function probeSocket(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (outcome: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('alive'), PROBE_MS);
    socket.once('connect', () => done('alive'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'stale' : (e.code ?? e.message)));
  });
}
