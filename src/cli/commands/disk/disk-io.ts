// Where `vireo disk` verbs write: stdout for results, stderr for errors and progress. Passed in
// so tests can capture both without touching the process's streams.

export interface DiskIo {
  out(text: string): void;
  err(text: string): void;
  /** Progress lines go to stderr when it is a terminal (or --progress asks for them). */
  readonly stderrIsTty: boolean;
}

export const processIo: DiskIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get stderrIsTty() { return process.stderr.isTTY === true; },
};

/** One verb of `vireo disk`: its help text and its handler (exit status; throws UsageError, ImageOpsError, Qcow2Error). */
export interface DiskVerb {
  readonly name: string;
  /** One line for the list in `vireo disk --help`. */
  readonly summary: string;
  readonly help: string;
  run(argv: string[], io: DiskIo): Promise<number>;
}
