// /audit: every change and every login, newest first, and a check of the hash chain that
// shows whether any entry was altered, removed or reordered since it was written.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { listAudit, verifyAuditLog, type AuditEntry } from '../../store/audit-log.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { COMMON_ERRORS, json } from './resource-route.js';

const AUDIT_ENTRY = z.object({
  seq: z.number().int(), at: z.string(), actorId: z.string().nullable(), actorName: z.string(), action: z.string(),
  target: z.string(), outcome: z.enum(['success', 'failure', 'denied']), sourceIp: z.string(),
  detail: z.record(z.string(), z.unknown()), prevHash: z.string(), hash: z.string(),
}).openapi('AuditEntry');

const VERIFICATION = z.union([
  z.object({ ok: z.literal(true), entries: z.number().int(), lastHash: z.string() }),
  z.object({ ok: z.literal(false), seq: z.number().int(), reason: z.string() }),
]).openapi('AuditVerification');

function auditView(row: AuditEntry): z.infer<typeof AUDIT_ENTRY> {
  return {
    seq: row.seq, at: row.at, actorId: row.actor_id, actorName: row.actor_name, action: row.action, target: row.target,
    outcome: row.outcome, sourceIp: row.source_ip, detail: JSON.parse(row.detail) as Record<string, unknown>, prevHash: row.prev_hash, hash: row.hash,
  };
}

export function auditRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/audit', tags: ['audit'], summary: 'The audit log, newest first',
    request: { query: PAGE_QUERY.extend({ actor: z.string().max(200).optional(), action: z.string().max(100).optional() }) },
    responses: { 200: json('A page of entries', pageOf(AUDIT_ENTRY, 'AuditPage')), ...COMMON_ERRORS },
  }), { action: 'audit.read', target: () => ({}) }), async (c) => {
    const { limit, cursor, actor, action } = c.req.valid('query');
    const page = await listAudit(c.get('master').store.db, { limit, cursor: cursor ?? null, ...(actor === undefined ? {} : { actor }), ...(action === undefined ? {} : { action }) });
    linkNextPage(c, page.nextCursor);
    return c.json({ items: page.items.map(auditView), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/audit/verification', tags: ['audit'], summary: 'Recompute the hash chain: ok, or the first entry that was tampered with',
    responses: { 200: json('The verdict', VERIFICATION), ...COMMON_ERRORS },
  }), { action: 'audit.read', target: () => ({}) }), async (c) => c.json(await verifyAuditLog(c.get('master').store.db), 200));

  return app;
}
