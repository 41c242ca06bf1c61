// The OpenAPI document cannot drift from the server: every route the server answers is in it,
// every operation in it is answered, and each documented path refuses other methods.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from '../../../tests/vm/api-harness.js';
import { FakeVmController } from '../../../tests/vm/fake-vm-controller.js';
import { OperationRegistry } from './operation-registry.js';
import { apiRoutes } from './vm-api-server.js';

type Document = { openapi: string; paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown>; requestBody?: { required: boolean } }>> };

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Bodies that pass each documented request schema. */
const VALID_BODIES: Record<string, unknown> = { saveVm: { path: '/tmp/a.vmsnap' }, migrateVm: { target: 'tcp:localhost:4444' } };

test('the served document is OpenAPI 3.1 and lists exactly the routes the server matches', async () => {
  const h = await startHarness();
  try {
    const answer = await h.client.request('GET', '/openapi.json');
    assert.equal(answer.status, 200);
    const doc = answer.body as Document;
    assert.equal(doc.openapi, '3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const served = apiRoutes(new FakeVmController(), new OperationRegistry()).routes.map((r) => `${r.method} ${r.path}`).sort();
    assert.deepEqual(documented, served);
    for (const required of ['GET /vm', 'POST /vm/pause', 'POST /vm/resume', 'POST /vm/stop', 'POST /vm/save', 'POST /vm/migrate', 'GET /operations/{id}', 'GET /openapi.json']) {
      assert.ok(documented.includes(required), `${required} is missing`);
    }
  } finally {
    await h.close();
  }
});

test('every documented operation is answered with a documented status; other methods are 405 with the documented ones in Allow', async () => {
  const h = await startHarness();
  try {
    const doc = (await h.client.request('GET', '/openapi.json')).body as Document;
    for (const [template, ops] of Object.entries(doc.paths)) {
      const path = template.replace('{id}', 'no-such-operation');
      for (const [method, op] of Object.entries(ops)) {
        h.vm.state = 'running';
        const answer = await h.client.request(method.toUpperCase(), path, VALID_BODIES[op.operationId]);
        const error = (answer.body as { error?: { kind: string } }).error;
        assert.notEqual(error?.kind, 'method-not-allowed', `${method} ${path}`);
        if (answer.status === 404) assert.match(JSON.stringify(answer.body), /no operation/, `${method} ${path} is not routed`);
        assert.ok(Object.hasOwn(op.responses, String(answer.status)), `${method} ${path} answered ${answer.status}, which its document does not list`);
        if (answer.status === 202) (await h.vm.nextAction()).succeed({});
      }
      const allowed = Object.keys(ops).map((m) => m.toUpperCase());
      for (const other of METHODS.filter((m) => !allowed.includes(m))) {
        const answer = await h.client.request(other, path);
        assert.equal(answer.status, 405, `${other} ${path}`);
        assert.deepEqual(String(answer.headers['allow']).split(', ').sort(), allowed.sort());
      }
    }
  } finally {
    await h.close();
  }
});
