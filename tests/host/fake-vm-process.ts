// A stand-in for a `vireo run --api SOCK` process, for testing the agent without booting
// anything: it serves the VM API (with FakeVmController) on the socket named in its arguments,
// echoes console input back upper-cased, exits 130 after an API stop, exits 0 (the guest
// powered off) after a power button press unless told otherwise, and can be made to crash.

import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { ApiRoute } from '../../src/vm/api/api-route.js';
import { VmApiError } from '../../src/vm/api/vm-api-error.js';
import { createServer } from 'node:http';
import { OperationRegistry } from '../../src/vm/api/operation-registry.js';
import { RouteTable } from '../../src/vm/api/route-table.js';
import { apiRoutes, handleApiRequest } from '../../src/vm/api/vm-api-server.js';
import type { ProcessExit, SpawnRequest, SpawnVm, VmProcess } from '../../src/host/vm-process.js';
import { FakeVmController } from '../vm/fake-vm-controller.js';

export class FakeVmProcess implements VmProcess {
  /** A real process stands in for the pid, so the agent can renice it and read /proc. */
  private readonly standIn = spawn('sleep', ['600'], { stdio: 'ignore' });
  readonly pid = this.standIn.pid!;
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly exited: Promise<ProcessExit>;
  readonly controller: FakeVmController;
  readonly signals: NodeJS.Signals[] = [];
  /** When set, an API stop is ignored (a hung guest), so the agent must fall back to signals. */
  ignoreStop = false;
  /** What the guest does when its power button is pressed: power off, nothing, or it has no driver for the button. */
  guest: 'poweroff' | 'ignore' | 'no-driver' = 'poweroff';
  /** What GET /vm/cpu says the guest uses (percent of one core); a busy guest uses all its cap allows. */
  cpuUsedPercent = 0;
  private finish!: (exit: ProcessExit) => void;
  private server: { close(): Promise<void> } | null = null;
  private done = false;

  constructor(readonly request: SpawnRequest) {
    this.exited = new Promise((resolve) => { this.finish = resolve; });
    const process = this;
    this.controller = new (class extends FakeVmController {
      override async stop(): Promise<void> {
        if (process.ignoreStop) return;
        await super.stop();
        setImmediate(() => void process.exit({ code: 130, signal: null }));
      }

      override async shutdown(): Promise<void> {
        this.guestDriver = process.guest !== 'no-driver';
        await super.shutdown();
        if (process.guest === 'poweroff') setTimeout(() => void process.exit({ code: 0, signal: null }), 20);
      }
    })();
    this.stdin.on('data', (chunk: Buffer) => this.stdout.write(chunk.toString('utf8').toUpperCase()));
  }

  /** The requests made to the routes the limits-and-stats contract adds (method, path, body). */
  readonly contractCalls: Array<{ method: string; path: string; body: unknown }> = [];

  /** Starts serving the API at the --api path of its arguments, with the contract's routes too. */
  async serve(): Promise<void> {
    const api = this.request.runArgs[this.request.runArgs.indexOf('--api') + 1]!;
    const disks = this.request.runArgs.filter((a) => a === '--disk').length;
    const table = new RouteTable([...apiRoutes(this.controller, new OperationRegistry()).routes, ...contractRoutes(this, disks)]);
    const server = createServer((req, res) => void handleApiRequest(table, req, res, () => false));
    await new Promise<void>((resolve) => server.listen(api, resolve));
    this.server = {
      close: () => new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    };
  }

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGTERM' && this.ignoreStop) return;
    void this.exit({ code: null, signal });
  }

  /** Ends the "process" as `exit` says (a crash: { code: 1, signal: null }). */
  async exit(exit: ProcessExit): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.server?.close();
    this.standIn.kill('SIGKILL');
    this.stdout.end();
    this.finish(exit);
  }
}

/** A SpawnVm that makes FakeVmProcesses and keeps them for the test to inspect and crash. */
export function fakeSpawner(options: { serve?: boolean } = {}): { spawn: SpawnVm; spawned: FakeVmProcess[] } {
  const spawned: FakeVmProcess[] = [];
  const spawn: SpawnVm = (request) => {
    const child = new FakeVmProcess(request);
    spawned.push(child);
    if (options.serve !== false) void child.serve();
    return child;
  };
  return { spawn, spawned };
}

/**
 * The routes the VM process gains from the limits-and-stats work (GET /vm/stats, GET and PUT
 * /vm/cpu, PUT /vm/disks/{serial}/limits), as that contract states them, recording each call.
 */
function contractRoutes(child: FakeVmProcess, disks: number): ApiRoute[] {
  let capPercent: number | null = null;
  const record = (method: string, path: string, body: unknown): void => { child.contractCalls.push({ method, path, body }); };
  const ok = { 200: { description: 'ok' } };
  return [
    {
      method: 'GET', path: '/vm/stats', operationId: 'getVmStats', summary: 'stats', responses: ok,
      handle: async () => ({ status: 200, body: { uptimeMs: 5, cpu: { userMicros: 1, systemMicros: 2, instructionsRetired: child.controller.instructionsRetired }, memory: { rssBytes: 3, heapUsedBytes: 4, guestRamBytes: 5, zeroPagesGivenBackBytes: 6, mergedBytes: 7 }, disks: [], nics: [] } }),
    },
    {
      method: 'GET', path: '/vm/cpu', operationId: 'getVmCpu', summary: 'cpu', responses: ok,
      handle: async () => ({ status: 200, body: { capPercent, usedPercent: Math.min(child.cpuUsedPercent, capPercent ?? Infinity) } }),
    },
    {
      method: 'PUT', path: '/vm/cpu', operationId: 'setVmCpu', summary: 'cpu', responses: ok,
      body: { schema: { type: 'object', required: ['capPercent'], properties: { capPercent: { type: ['number', 'null'] } } }, required: true },
      async handle({ body }) {
        record('PUT', '/vm/cpu', body);
        capPercent = (body as { capPercent: number | null }).capPercent;
        return { status: 200, body: { capPercent, usedPercent: Math.min(child.cpuUsedPercent, capPercent ?? Infinity) } };
      },
    },
    {
      method: 'PUT', path: '/vm/disks/{serial}/limits', operationId: 'setDiskLimits', summary: 'limits', responses: ok,
      parameters: [{ name: 'serial', in: 'path', required: true, description: 'serial', schema: { type: 'string' } }],
      body: { schema: { type: 'object' }, required: true },
      async handle({ params, body }) {
        const serial = params['serial']!;
        if (!Array.from({ length: disks }, (_, i) => `vireo-disk-${i}`).includes(serial)) throw new VmApiError('not-found', `no disk ${serial}`);
        record('PUT', `/vm/disks/${serial}/limits`, body);
        return { status: 200, body };
      },
    },
  ];
}
