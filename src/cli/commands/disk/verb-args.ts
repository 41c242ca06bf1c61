// Argument parsing shared by the `vireo disk` verbs: node's parseArgs in strict mode, with its
// errors turned into UsageErrors that name the verb, and a check of the positional count.

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type ImageFormat, isImageFormat } from '../../../storage/image-ops/image-format.js';
import { UsageError } from '../../usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface VerbArgs<O extends Options> {
  values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
}

/**
 * Parses `argv` for `vireo <command>`; `names` lists the positionals (the optional ones in
 * brackets, last). Returns null for --help.
 */
export function parseVerbArgs<O extends Options>(command: string, argv: string[], options: O, names: string[]): VerbArgs<O> | null {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(command, parseErrorMessage(e as Error & { code?: string }));
  }
  if ((parsed.values as { help?: boolean }).help === true) return null;
  const required = names.filter((n) => !n.startsWith('[')).length;
  const { positionals } = parsed;
  if (positionals.length < required) throw new UsageError(command, `missing ${names.slice(positionals.length, required).join(' and ')}`);
  if (positionals.length > names.length) throw new UsageError(command, `unexpected argument ${positionals[names.length]}`);
  return { values: parsed.values as VerbArgs<O>['values'], positionals };
}

function parseErrorMessage(error: Error & { code?: string }): string {
  const name = /'([^' ]+)/.exec(error.message)?.[1] ?? '';
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${name}`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /argument missing|ambiguous/.test(error.message) ? `option ${name} needs a value` : `option ${name} takes no value`;
  }
  return error.message;
}

/** The value of a format option, checked. */
export function imageFormatOption(command: string, option: string, value: string | undefined): ImageFormat | undefined {
  if (value === undefined) return undefined;
  if (!isImageFormat(value)) throw new UsageError(command, `${option} takes raw or qcow2, got '${value}'`);
  return value;
}

export function help(io: { out(text: string): void }, text: string): number {
  io.out(text);
  return 0;
}
