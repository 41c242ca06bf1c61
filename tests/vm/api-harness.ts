// Test support for the VM API: a server on a fresh socket with a fake controller, and raw
// HTTP requests for what a well-behaved client never sends.

import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveVmApi, type VmApiServer } from '../../src/vm/api/vm-api-server.js';
import { VmApiClient } from '../../src/vm/api/vm-api-client.js';
import { FakeVmController } from './fake-vm-controller.js';

export interface Harness {
  dir: string;
  socket: string;
  vm: FakeVmController;
  server: VmApiServer;
  client: VmApiClient;
  close(): Promise<void>;
}

/** A temporary directory for sockets; removed by `remove()`. */
export function socketDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-api-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startHarness(): Promise<Harness> {
  const { dir, remove } = socketDir();
  const socket = join(dir, 'vm.sock');
  const vm = new FakeVmController();
  const server = await serveVmApi(socket, vm);
  return {
    dir, socket, vm, server, client: new VmApiClient(socket),
    close: async () => {
      await server.close();
      remove();
    },
  };
}

/** Runs `body` against a fresh server and fake VM, closing them after. */
export async function withApi(body: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness();
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { kind: string; message: string } } & Record<string, unknown>;
}

/** One request with exactly these headers and body chunks (the last chunk ends the request unless `end` is false). */
export function rawRequest(socket: string, method: string, path: string, headers: Record<string, string | number>, chunks: Array<string | Buffer> = [], end = true): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as RawAnswer['body'] }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    if (end) req.end();
  });
}
