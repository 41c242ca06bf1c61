// What can go wrong between the master and a host agent, as one error with a stable kind, so
// callers decide (mark a host down, show the agent's refusal, retry) without parsing messages.

export type HostLinkErrorKind =
  /** Nothing answers at the agent's address (refused, no route, no such socket, the connection dropped). */
  | 'unreachable'
  /** The agent did not answer within the time given, or the caller gave up. */
  | 'timeout'
  /** The agent refused the bearer token (HTTP 401). */
  | 'unauthorized'
  /** The agent refused the request (another 4xx), with its own error kind and message. */
  | 'refused'
  /** The agent failed (5xx), with its own error kind and message. */
  | 'agent-error'
  /** The answer is not what the agent's API promises. */
  | 'bad-response';

export interface HostLinkContext {
  /** The agent's address as the master knows it. */
  host: string;
  /** The request, e.g. 'GET /host'. */
  request?: string;
  /** With 'unauthorized', 'refused' and 'agent-error': the HTTP status and the agent's error kind. */
  status?: number;
  agentKind?: string;
}

export class HostLinkError extends Error {
  readonly kind: HostLinkErrorKind;
  readonly host: string;
  readonly request: string | undefined;
  readonly status: number | undefined;
  readonly agentKind: string | undefined;

  constructor(kind: HostLinkErrorKind, message: string, context: HostLinkContext, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HostLinkError';
    this.kind = kind;
    this.host = context.host;
    this.request = context.request;
    this.status = context.status;
    this.agentKind = context.agentKind;
  }
}
