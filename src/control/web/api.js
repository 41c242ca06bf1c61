// The master's REST API from the page: the session cookie goes by itself; every change
// carries the CSRF token the login answer gave (kept by the browser in a readable cookie).

export class ApiError extends Error {
  constructor(problem) {
    super(problem.detail ?? problem.title ?? 'request failed');
    this.problem = problem;
    this.status = problem.status;
  }
}

function csrfToken() {
  const match = document.cookie.split('; ').find((c) => c.startsWith('__Host-vireo-csrf='));
  return match === undefined ? '' : match.slice(match.indexOf('=') + 1);
}

export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (method !== 'GET') init.headers['X-CSRF-Token'] = csrfToken();
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(`/api/v1${path}`, init);
  const text = await response.text();
  const data = text === '' ? null : JSON.parse(text);
  if (!response.ok) throw new ApiError(data ?? { status: response.status, title: response.statusText });
  return { data, etag: response.headers.get('ETag') };
}

/** Every item of a paged list. */
export async function listAll(path) {
  const items = [];
  let cursor = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const { data } = await api('GET', `${path}${separator}limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    items.push(...data.items);
    cursor = data.nextCursor;
  } while (cursor !== null);
  return items;
}

/** Waits for an operation (202 answers) to finish; calls onProgress with it while it runs. */
export async function waitOperation(operation, onProgress) {
  let current = operation;
  while (current.state === 'queued' || current.state === 'running') {
    onProgress?.(current);
    current = (await api('GET', `/operations/${current.id}?wait=10`)).data;
  }
  onProgress?.(current);
  if (current.state === 'failed') throw new ApiError(current.error ?? { detail: current.message });
  return current;
}
