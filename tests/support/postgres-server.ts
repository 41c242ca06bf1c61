// A private, throwaway PostgreSQL server for tests: Debian's postgresql binaries, a data
// directory and Unix socket in a fresh temp dir (no TCP port to collide on), trust auth, fsync
// off. Removed at stop() and, failing that, when the process exits. With $VIREO_TEST_POSTGRES_URL
// set, that server is used instead and only the databases made here are dropped.

import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /**
   * The postgres:// URL of an empty database: made on the first call, emptied again (its
   * schema dropped and recreated, far quicker than CREATE DATABASE) on later ones. Close the
   * stores on it before asking again.
   */
  emptyDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The newest installed Debian PostgreSQL's bin directory, or a clear failure. */
function findBinaries(): string {
  const versions = existsSync(DEBIAN_ROOT)
    ? readdirSync(DEBIAN_ROOT).filter((v) => existsSync(join(DEBIAN_ROOT, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(`PostgreSQL is not installed (no ${DEBIAN_ROOT}/*/bin/initdb): install Debian's \`postgresql\` package ` +
      '(apt-get install postgresql; CI does), or set VIREO_TEST_POSTGRES_URL=postgres://... to a server the tests may create databases on');
  }
  return join(DEBIAN_ROOT, versions[0]!, 'bin');
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseMaker(adminUrl: string, made: string[]): () => Promise<string> {
  return async () => {
    const name = `vireo_test_${process.pid}`;
    const url = withDatabase(adminUrl, name);
    if (made.includes(name)) {
      await admin(url, (c) => c.query('drop schema public cascade; create schema public'));
    } else {
      await admin(adminUrl, (c) => c.query(`create database "${name}"`));
      made.push(name);
    }
    return url;
  };
}

function external(url: string): PostgresServer {
  const made: string[] = [];
  return {
    emptyDatabase: databaseMaker(url, made),
    async stop() {
      await admin(url, async (c) => {
        for (const name of made.splice(0)) await c.query(`drop database if exists "${name}" with (force)`);
      });
    },
  };
}

export async function startPostgres(): Promise<PostgresServer> {
  const externalUrl = process.env['VIREO_TEST_POSTGRES_URL'];
  if (externalUrl) return external(externalUrl);

  const bin = findBinaries();
  // PostgreSQL refuses to run as root; as root, run it as the postgres user.
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    const result = spawnSync(file, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr || result.error?.message}`);
  };

  const dir = mkdtempSync(join(tmpdir(), 'vireo-pg-'));
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const data = join(dir, 'data');
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    try {
      run('pg_ctl', ['stop', '-D', data, '-m', 'immediate']);
    } catch {
      // not running: nothing to stop
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopSync();
      process.kill(process.pid, signal);
    });
  }

  try {
    run('initdb', ['-D', data, '--auth=trust', '--username=postgres', '--no-sync', '--encoding=UTF8']);
    const options = `-c listen_addresses= -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    run('pg_ctl', ['start', '-w', '-D', data, '-l', join(dir, 'server.log'), '-o', options]);
  } catch (error) {
    stopSync();
    throw error;
  }
  const adminUrl = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(dir)}`;
  return {
    emptyDatabase: databaseMaker(adminUrl, []),
    async stop() {
      stopSync();
      process.off('exit', stopSync);
    },
  };
}
