// The one error class of the switch socket (server and client): a stable kind and the socket path.

export type SwitchSocketErrorKind =
  | 'connect-failed' // the client could not reach a switch server
  | 'bad-peer' // the other end does not speak the switch protocol
  | 'socket-in-use' // a server already answers at the path
  | 'listen-failed'; // the path cannot be served (not a socket, no permission)

export class SwitchSocketError extends Error {
  override readonly name = 'SwitchSocketError';

  constructor(
    readonly kind: SwitchSocketErrorKind,
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
