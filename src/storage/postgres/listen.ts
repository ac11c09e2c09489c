/**
 * `LISTEN` on the change feed's channel, on one connection held from the pool: a notification
 * (sent by the `NOTIFY` trigger when a write commits) calls `onChange`; a lost connection is
 * replaced with exponential backoff, and every (re)connection calls `onChange` once too, since
 * notifications sent meanwhile were missed. The feed cursor stays the source of truth.
 */
import type { PostgresPool } from 'kysely';
import type { ChangeListener } from '../types.js';

/** The channel the change-feed trigger notifies. */
export const CHANGES_CHANNEL = 'llmlb_changes';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/** What `LISTEN` needs of a pooled `pg` client, beyond what kysely's pool type says. */
interface ListeningClient {
  query(text: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error' | 'end', listener: () => void): unknown;
  release(destroy?: boolean): void;
}

function canListen(client: unknown): client is ListeningClient {
  return typeof (client as { on?: unknown }).on === 'function';
}

/**
 * Listens until the returned function is called. A pool whose clients cannot listen (not `pg`)
 * is left alone: readers then rely on polling.
 *
 * @example
 * const stop = listenForChanges(pool, () => void store.catchUp());
 * await stop();
 */
export function listenForChanges(pool: () => Promise<PostgresPool>, onChange: ChangeListener): () => Promise<void> {
  let stopped = false;
  /** Gives the current connection back (once); undefined while not connected. */
  let hangUp: ((destroy: boolean) => ListeningClient | undefined) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = FIRST_RETRY_MS;

  const retry = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void connect(), delay);
    timer.unref();
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  };

  const connect = async (): Promise<void> => {
    let released = false;
    let client: ListeningClient | undefined;
    const release = (destroy: boolean): ListeningClient | undefined => {
      if (released) return undefined;
      released = true;
      if (hangUp === release) hangUp = undefined;
      if (destroy) client?.release(true);
      return client;
    };
    const onLost = (): void => {
      if (release(true) !== undefined || client === undefined) retry();
    };
    try {
      const pooled = await (await pool()).connect();
      if (stopped || !canListen(pooled)) return pooled.release();
      client = pooled;
      hangUp = release;
      client.on('notification', (message) => {
        if (message.channel === CHANGES_CHANNEL) onChange();
      });
      client.on('error', onLost);
      client.on('end', onLost);
      await client.query(`listen ${CHANGES_CHANNEL}`);
      delay = FIRST_RETRY_MS;
      onChange();
    } catch {
      onLost();
    }
  };

  void connect();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    const client = hangUp?.(false);
    if (client === undefined) return;
    await client.query(`unlisten ${CHANGES_CHANNEL}`).catch(() => undefined);
    client.release();
  };
}
