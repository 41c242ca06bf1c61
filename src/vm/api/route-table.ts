// Finds the route for a request: by path template, then method. A known path with another
// method is a 405 that lists the methods it takes.

import type { ApiRoute } from './api-route.js';
import { VmApiError } from './vm-api-error.js';

export interface RouteMatch {
  route: ApiRoute;
  params: Record<string, string>;
}

export class RouteTable {
  private readonly entries: Array<{ route: ApiRoute; pattern: RegExp; names: string[] }>;

  constructor(readonly routes: readonly ApiRoute[]) {
    this.entries = routes.map((route) => {
      const names: string[] = [];
      const source = route.path.split(/(\{[^}]+\})/u).map((part) => {
        if (!part.startsWith('{')) return part.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
        names.push(part.slice(1, -1));
        return '([^/]+)';
      }).join('');
      return { route, pattern: new RegExp(`^${source}$`, 'u'), names };
    });
  }

  /** The route for `method` and `pathname`; throws 'not-found' or 'method-not-allowed' (with `allow`). */
  match(method: string, pathname: string): RouteMatch {
    const allow: string[] = [];
    for (const { route, pattern, names } of this.entries) {
      const found = pattern.exec(pathname);
      if (found === null) continue;
      if (route.method !== method) {
        allow.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(found[i + 1]!);
        } catch {
          throw new VmApiError('not-found', `${pathname} is not a valid path: bad percent-encoding`, { path: pathname });
        }
      });
      return { route, params };
    }
    if (allow.length > 0) {
      throw new VmApiError('method-not-allowed', `${pathname} takes ${allow.join(', ')}, not ${method}`, { allow: allow.join(', ') });
    }
    throw new VmApiError('not-found', `no route ${pathname}; GET /openapi.json lists the routes`, { path: pathname });
  }
}
