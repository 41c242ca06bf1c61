// Runs the host programs the image build needs, turning "not installed" and "failed" into
// ImageErrors that name the Debian package to install or show the program's own complaint.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ImageError } from './image-error.js';

/** The Debian package that provides each host program the build runs. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  xz: 'xz-utils',
  zstd: 'zstd',
  mke2fs: 'e2fsprogs',
  debugfs: 'e2fsprogs',
};

/** The full path of `command` on PATH, or undefined. */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  // sbin directories are often missing from a normal user's PATH, but mke2fs lives there.
  const dirs = [...path.split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function missingToolError(commands: string[], step?: string): ImageError {
  const packages = [...new Set(commands.map((c) => TOOL_PACKAGES[c] ?? c))];
  return new ImageError(
    'missing-tool',
    `cannot build the Debian image: ${commands.join(', ')} ${commands.length === 1 ? 'is' : 'are'} not installed; ` +
      `install ${packages.length === 1 ? 'the Debian package' : 'the Debian packages'} ` +
      `${packages.join(' ')} (apt-get install ${packages.join(' ')})`,
    { step, command: commands.join(' ') },
  );
}

/** Throws a 'missing-tool' ImageError naming every absent program and its package. */
export function requireTools(commands: readonly string[], step?: string): void {
  const missing = commands.filter((c) => findOnPath(c) === undefined);
  if (missing.length > 0) throw missingToolError(missing, step);
}

export interface ToolResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface RunToolOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each complete line the program writes to stdout. */
  onLine?: (line: string) => void;
  step?: string;
  /** Written to the program's standard input (otherwise it gets none). */
  stdin?: string;
}

/**
 * Runs `command` to completion and returns its exit code and output. Throws only when the
 * program cannot be started; a non-zero exit is the caller's to judge (see checkTool).
 */
export function runTool(command: string, args: readonly string[], options: RunToolOptions = {}): Promise<ToolResult> {
  const resolved = findOnPath(command);
  if (resolved === undefined) return Promise.reject(missingToolError([command], options.step));
  return new Promise((resolve, reject) => {
    const child = spawn(resolved, args, {
      cwd: options.cwd,
      // C locale: apt's messages are matched below to tell an unreachable mirror from other failures.
      env: { ...process.env, ...options.env, LC_ALL: 'C' },
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    child.stdin?.end(options.stdin);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out.push(chunk);
      if (options.onLine) {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) options.onLine(line.trim());
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (cause) =>
      reject(new ImageError('tool-failed', `cannot run ${command}: ${cause.message}`, { step: options.step, command }, { cause })),
    );
    child.on('close', (code, signal) => {
      if (options.onLine && pending.trim()) options.onLine(pending.trim());
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** The last few lines of a program's complaint, for error messages. */
export function tail(text: string, lines = 12): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Runs `command` and throws a 'tool-failed' ImageError unless it exits with status 0. */
export async function checkTool(command: string, args: readonly string[], options: RunToolOptions = {}): Promise<ToolResult> {
  const result = await runTool(command, args, options);
  if (result.code !== 0) {
    const output = tail(result.stderr || result.stdout.toString('utf8'));
    throw new ImageError(
      'tool-failed',
      `${command} ${args.join(' ')} failed with status ${result.code}${output ? `:\n${output}` : ''}`,
      { step: options.step, command, output },
    );
  }
  return result;
}
