// Routes of the VM's resources, for the host agent: stats, the CPU cap, and disk limits, all
// applied while the VM runs.

import type { ApiRoute } from './api-route.js';
import { errorResponses } from './api-schemas.js';
import { CPU_REQUEST, CPU_STATUS, IO_LIMITS, VM_STATS } from './resource-schemas.js';
import { VmApiError } from './vm-api-error.js';
import type { VmResourceController } from './vm-resources.js';
import type { IoLimits } from '../../storage/qos/io-limits.js';

export function resourceRoutes(controller: VmResourceController): ApiRoute[] {
  /** The controller's refusal of a value (its kind) as a 400 naming the field. */
  const refused = (kind: string, field: string, e: unknown): never => {
    if ((e as { kind?: unknown }).kind === kind) throw new VmApiError('invalid-body', `body${field}: ${(e as Error).message}`, { field });
    throw e;
  };
  return [
    {
      method: 'GET',
      path: '/vm/stats',
      operationId: 'getVmStats',
      summary: 'The VM process\'s CPU and memory use, and its disks\' and NICs\' counters',
      responses: { 200: { description: 'The stats', schema: VM_STATS }, ...errorResponses(400, 413, 415, 500) },
      handle: async () => ({ status: 200, body: controller.stats() }),
    },
    {
      method: 'GET',
      path: '/vm/cpu',
      operationId: 'getVmCpu',
      summary: 'The CPU cap in force and the CPU used over the last second',
      responses: { 200: { description: 'The cap and the use', schema: CPU_STATUS }, ...errorResponses(400, 413, 415, 500) },
      handle: async () => ({ status: 200, body: controller.cpu() }),
    },
    {
      method: 'PUT',
      path: '/vm/cpu',
      operationId: 'putVmCpu',
      summary: 'Cap the VM\'s CPU use, at once, while it runs',
      description: 'The cap is a percent of one host core (5 to 100 per hart), or null for none. While a migration holds the guest back harder, that applies; the cap comes back after.',
      body: { schema: CPU_REQUEST, required: true },
      responses: { 200: { description: 'The cap now in force and the use', schema: CPU_STATUS }, ...errorResponses(400, 413, 415, 500) },
      async handle({ body }) {
        try {
          return { status: 200, body: controller.setCpuCap((body as { capPercent: number | null }).capPercent) };
        } catch (e) {
          return refused('bad-cap', '.capPercent', e);
        }
      },
    },
    {
      method: 'PUT',
      path: '/vm/disks/{serial}/limits',
      operationId: 'putDiskLimits',
      summary: 'Replace a disk\'s I/O limits while the VM runs',
      description: 'Requests waiting for the old limits are judged again against the new ones.',
      parameters: [{ name: 'serial', in: 'path', required: true, description: 'The disk\'s serial (as given with --disk ...,serial= or its default)', schema: { type: 'string' } }],
      body: { schema: IO_LIMITS, required: true },
      responses: { 200: { description: 'The limits now in force', schema: IO_LIMITS }, ...errorResponses(400, 404, 413, 415, 500) },
      async handle({ params, body }) {
        const serial = params['serial']!;
        let limits: IoLimits | null;
        try {
          limits = controller.setDiskLimits(serial, body as IoLimits);
        } catch (e) {
          return refused('bad-limit', '', e);
        }
        if (limits === null) throw new VmApiError('not-found', `the VM has no disk with serial ${serial}; GET /vm/stats lists them`, { serial });
        return { status: 200, body: limits };
      },
    },
  ];
}
