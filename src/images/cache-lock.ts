// A lock directory so two builds (two test processes, or a test and `vireo image`) never
// write the same image cache at once. A lock whose owner process is gone is taken over.

import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageError } from './image-error.js';

export interface CacheLockOptions {
  /** Give up after this long (default 20 minutes: a slow first build). */
  timeoutMs?: number;
  pollMs?: number;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: (holder: string) => void;
}

function ownerAlive(lockDir: string): { alive: boolean; holder: string } {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8').trim());
  } catch {
    // Created but not yet stamped: give its owner a minute before calling it stale.
    try {
      return { alive: Date.now() - statSync(lockDir).mtimeMs < 60_000, holder: 'a starting process' };
    } catch {
      return { alive: false, holder: 'nobody' };
    }
  }
  try {
    process.kill(pid, 0);
    return { alive: true, holder: `process ${pid}` };
  } catch (error) {
    return { alive: (error as NodeJS.ErrnoException).code === 'EPERM', holder: `process ${pid}` };
  }
}

/** Takes `<dir>/.lock`; resolves to the function that releases it. */
export async function acquireCacheLock(dir: string, options: CacheLockOptions = {}): Promise<() => void> {
  const lockDir = join(dir, '.lock');
  const deadline = Date.now() + (options.timeoutMs ?? 20 * 60_000);
  let waited = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), `${process.pid}\n`);
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const { alive, holder } = ownerAlive(lockDir);
    if (!alive) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ImageError('locked', `${dir} is locked by ${holder}, which is still building it; wait for it, or remove ${lockDir} if that process is not a Vireo build`, { path: lockDir });
    }
    if (!waited) options.onWait?.(holder);
    waited = true;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
