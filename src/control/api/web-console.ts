// Serves the web console: the page, its modules and styles (src/control/web, plain ES modules
// with no build step), and xterm.js from its package. Read once at start; a strict content
// security policy lets the page load only from the master and talk only to it.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MasterEnv } from './master-env.js';

/** From dist/src/control/api (compiled) back to the repository's src/control/web. */
const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'src', 'control', 'web');
const PAGES = ['app.js', 'api.js', 'dom.js', 'style.css', 'views/login.js', 'views/resources.js', 'views/vms.js', 'views/overview.js', 'views/storage.js'];

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8' };

const POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function assets(): Map<string, { body: Buffer; type: string }> {
  const require = createRequire(import.meta.url);
  const xterm = dirname(require.resolve('@xterm/xterm/package.json'));
  const fit = dirname(require.resolve('@xterm/addon-fit/package.json'));
  const files: Array<[string, string]> = [
    ['/', join(WEB_DIR, 'index.html')],
    ...PAGES.map((p): [string, string] => [`/assets/${p}`, join(WEB_DIR, p)]),
    ['/assets/xterm/xterm.mjs', join(xterm, 'lib', 'xterm.mjs')],
    ['/assets/xterm/xterm.css', join(xterm, 'css', 'xterm.css')],
    ['/assets/xterm/addon-fit.mjs', join(fit, 'lib', 'addon-fit.mjs')],
  ];
  return new Map(files.map(([url, path]) => [url, { body: readFileSync(path), type: TYPES[extname(path)]! }]));
}

export function serveWebConsole(app: OpenAPIHono<MasterEnv>): void {
  const files = assets();
  app.get('*', async (c, next) => {
    const file = files.get(c.req.path);
    if (file === undefined) return next();
    c.header('Content-Type', file.type);
    c.header('Cache-Control', 'no-cache');
    c.header('Content-Security-Policy', POLICY);
    return c.body(new Uint8Array(file.body), 200);
  });
}
