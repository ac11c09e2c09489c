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
