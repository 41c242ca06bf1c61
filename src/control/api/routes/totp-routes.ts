// /session/totp: the caller's own second factor, enrolled in two steps (a new secret, then a
// code from it), so a secret that never reached the authenticator app locks nobody out.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { confirmTotp, enrollTotp } from '../../commands/enroll-totp.js';
import type { MasterEnv } from '../master-env.js';
import { securedRoute } from '../secured-route.js';
import { body, COMMON_ERRORS, json, problem } from './resource-route.js';

const PENDING_TOTP = z.object({
  totpSecret: z.string().openapi({ description: 'Base32, for the authenticator app' }),
  otpauthUri: z.string().openapi({ description: 'The same as an otpauth:// URI, for a QR code' }),
}).openapi('PendingTotp');

const ENROLMENT = z.object({
  currentCode: z.string().regex(/^\d{6}$/u).optional().openapi({ description: 'Required when a second factor is active: a current code from it' }),
}).strict().openapi('TotpEnrolment');

const CONFIRMATION = z.object({ code: z.string().regex(/^\d{6}$/u).openapi({ description: 'A current code from the new secret' }) }).strict().openapi('TotpConfirmation');

const CONFIRMED = z.object({
  recoveryCodes: z.array(z.string()).openapi({ description: 'New one-time codes for a lost authenticator (the old ones no longer work); shown this once' }),
}).openapi('TotpConfirmed');

export function totpRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();
  const tags = ['session'];

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/session/totp', tags, summary: 'Start enrolling a new TOTP second factor; it is pending until confirmed',
    request: { body: { required: false, content: { 'application/json': { schema: ENROLMENT } } } },
    responses: { 201: json('The new secret, shown this once', PENDING_TOTP), ...COMMON_ERRORS },
  }), { action: 'session.update' }), async (c) => {
    const pending = await enrollTotp(c.get('master'), c.get('caller')!, (c.req.valid('json') as z.infer<typeof ENROLMENT> | undefined)?.currentCode);
    c.header('Cache-Control', 'no-store');
    return c.json(pending, 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/session/totp/confirmation', tags, summary: 'Confirm the pending secret with a code from it: it becomes the second factor',
    request: body(CONFIRMATION),
    responses: { 200: json('Enrolled', CONFIRMED), 409: problem('Nothing is pending'), ...COMMON_ERRORS },
  }), { action: 'session.update' }), async (c) => {
    const confirmed = await confirmTotp(c.get('master'), c.get('caller')!, c.req.valid('json').code);
    c.header('Cache-Control', 'no-store');
    return c.json(confirmed, 200);
  });

  return app;
}
