// A client of the VM API over its Unix socket (node:http with socketPath), for `vireo vm` and
// for programs that drive a VM. Errors say which socket and what the VM answered.

import { request as httpRequest } from 'node:http';
import type { Operation } from './operation-registry.js';
import type { VmStatus } from './vm-controller.js';

export type VmApiClientErrorKind = 'unreachable' | 'bad-response' | 'api';

export class VmApiClientError extends Error {
  readonly kind: VmApiClientErrorKind;
  /** With kind 'api': the HTTP status and the API's error kind. */
  readonly status: number | undefined;
  readonly apiKind: string | undefined;
  readonly socketPath: string;

  constructor(kind: VmApiClientErrorKind, message: string, context: { socketPath: string; status?: number; apiKind?: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.socketPath = context.socketPath;
    this.status = context.status;
    this.apiKind = context.apiKind;
  }
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** How to reach an API other than over a VM's socket: TCP, a bearer token, and what to call it in errors. */
export interface ApiConnection {
  tcp?: { host: string; port: number };
  token?: string;
  /** Said after "cannot reach ..." when nothing answers (default: how to start a VM with --api). */
  unreachableHint?: string;
  /** Give up on an answer after this long (default: wait as long as it takes). */
  timeoutMs?: number;
}

/** Per request: `signal` abandons it (the request is destroyed; the promise rejects as 'unreachable' with the abort as its cause). */
export interface RequestOptions {
  signal?: AbortSignal;
}

export class VmApiClient {
  /** `socketPath` is the Unix socket, or with `connection.tcp` only a name for the server in messages. */
  constructor(readonly socketPath: string, private readonly connection: ApiConnection = {}) {}

  /** Sends one request and returns whatever the server answered (errors included). */
  request(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<ApiAnswer> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const { tcp, token } = this.connection;
      const headers: Record<string, string | number> = text === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
      if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
      const req = httpRequest({
        ...(tcp === undefined ? { socketPath: this.socketPath } : { host: tcp.host, port: tcp.port }), method, path, headers,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (e) => reject(this.unreachable(e)));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw === '' ? undefined : JSON.parse(raw) as unknown });
          } catch (e) {
            reject(new VmApiClientError('bad-response', `the VM API at ${this.socketPath} answered ${method} ${path} with something that is not JSON`, { socketPath: this.socketPath }, { cause: e }));
          }
        });
      });
      req.on('error', (e) => reject(this.unreachable(e)));
      const { timeoutMs } = this.connection;
      if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer to ${method} ${path} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.end(text);
    });
  }

  /** Sends a request and returns the body of a 2xx answer; any other answer is thrown as a VmApiClientError of kind 'api'. */
  async call<T>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    const answer = await this.request(method, path, body, options);
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    const error = (answer.body as { error?: { kind?: unknown; message?: unknown } } | undefined)?.error;
    const message = typeof error?.message === 'string' ? error.message : `${method} ${path} answered HTTP ${answer.status}`;
    throw new VmApiClientError('api', message, { socketPath: this.socketPath, status: answer.status, apiKind: typeof error?.kind === 'string' ? error.kind : undefined });
  }

  status(): Promise<VmStatus> {
    return this.call('GET', '/vm');
  }

  /** Waits up to `seconds` for the operation to end, or with `afterRevision` to change. */
  operation(id: string, seconds: number, afterRevision?: number, options?: RequestOptions): Promise<Operation> {
    const after = afterRevision === undefined ? '' : `&after=${afterRevision}`;
    return this.call('GET', `/operations/${encodeURIComponent(id)}?wait=${seconds}${after}`, undefined, options);
  }

  /** Follows an operation until it ends, calling `onChange` on each change; returns the ended operation. */
  async follow(first: Operation, onChange: (op: Operation) => void, pollSeconds = 60): Promise<Operation> {
    let op = first;
    onChange(op);
    while (op.state === 'running') {
      const next = await this.operation(op.id, pollSeconds, op.revision);
      if (next.revision !== op.revision) onChange(next);
      op = next;
    }
    return op;
  }

  /** Where to open a WebSocket on `path` of this API (ws:// on TCP, ws+unix: on the socket), with the headers it needs. */
  webSocket(path: string): { url: string; headers: Record<string, string> } {
    const { tcp, token } = this.connection;
    const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
    if (tcp === undefined) return { url: `ws+unix:${this.socketPath}:${path}`, headers };
    const host = tcp.host.includes(':') ? `[${tcp.host}]` : tcp.host;
    return { url: `ws://${host}:${tcp.port}${path}`, headers };
  }

  private unreachable(e: Error & { code?: string }): VmApiClientError {
    const why = e.code === 'ENOENT' ? 'no such socket' : e.code === 'ECONNREFUSED' ? 'nothing listens on it' : e.message;
    const hint = this.connection.unreachableHint ?? `no VM serves it; start one with 'vireo run --api ${this.socketPath}'`;
    return new VmApiClientError('unreachable', `cannot reach the ${this.connection.unreachableHint === undefined ? 'VM API' : 'API'} at ${this.socketPath} (${why}): ${hint}`, { socketPath: this.socketPath }, { cause: e });
  }
}
