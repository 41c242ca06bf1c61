// The one error the command line raises for bad invocations: reported with a usage hint and
// exit status 2, never with a stack trace.

export class UsageError extends Error {
  readonly kind = 'usage';
  /** The command whose usage was wrong ("run"), or "" for the top level. */
  readonly command: string;

  constructor(command: string, message: string) {
    super(message);
    this.command = command;
  }
}
