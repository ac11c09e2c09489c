/** The error of a command-line mistake. */

/**
 * A usage mistake (unknown flag, bad value, malformed key list): the CLI prints the message and a
 * usage hint on stderr and exits with code 2.
 *
 * @example
 * try { parseCliConfig(['serve', '--port', 'x'], {}); } catch (err) { if (err instanceof CliUsageError) err.exitCode; } // 2
 */
export class CliUsageError extends Error {
  /** Process exit code for usage errors. */
  readonly exitCode = 2;
  /** When true, print the whole usage text instead of a one-line hint. */
  readonly showUsage: boolean;

  constructor(message: string, options: { showUsage?: boolean } = {}) {
    super(message);
    this.name = 'CliUsageError';
    this.showUsage = options.showUsage ?? false;
  }
}

/** Turns a `parseArgs` error into a one-line message that never echoes an option's value. */
export function argsError(err: unknown): CliUsageError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-[^' <]*)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new CliUsageError(`unknown option ${option ?? ''}`.trim());
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    if (/does not take/.test(message)) return new CliUsageError(`option ${option} does not take a value`);
    if (/ambiguous/.test(message)) {
      return new CliUsageError(`option ${option} needs a value (for a value starting with "-", write ${option}=<value>)`);
    }
    return new CliUsageError(`option ${option} needs a value`);
  }
  return new CliUsageError(message.split('\n')[0] ?? 'invalid arguments');
}
