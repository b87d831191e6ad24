/**
 * The response state for commands: the state directory (`--state`, file-backed) or, when DATABASE_URL is set,
 * the PostgreSQL state store (docs/state.md); and sending notifications for what a command changed.
 */
import type { Config } from '../config/schema.js';
import { createNotifier, type NotifyEvent } from '../respond/notify.js';
import { FileStateStore, StateError } from '../respond/state.js';
import { openState, type PgStateStore } from '../store/state/pg-state.js';
import { int, terminalSafe } from './human.js';
import { CliError, type Io } from './parse.js';

export const DEFAULT_STATE = 'apiwarden-state';

/** DATABASE_URL: the shared PostgreSQL state; otherwise the state directory. Errors become one CLI line. */
export async function openStateStore(dir: string): Promise<FileStateStore | PgStateStore> {
  try {
    const url = process.env.DATABASE_URL;
    return url !== undefined && url !== ''
      ? await openState({ databaseUrl: url })
      : await FileStateStore.open(dir);
  } catch (e) {
    if (e instanceof StateError || (e instanceof Error && /DATABASE_URL/.test(e.message)))
      throw new CliError(e.message);
    throw e;
  }
}

/** Sends the events to the configured channels (none: nothing) and says on stderr what failed. */
export async function sendNotifications(
  config: Config,
  events: readonly NotifyEvent[],
  io: Io,
): Promise<void> {
  if (config.notifications.channels.length === 0 || events.length === 0) return;
  const n = createNotifier(config.notifications);
  if (!n.ok) throw new CliError(n.error.join('\n'), 2);
  for (const e of events) void n.value.notify(e);
  const results = await n.value.flush();
  const failed = results.filter((r) => !r.ok);
  io.stderr.write(
    `notifications: ${int(results.length - failed.length)} delivered, ${int(failed.length)} failed\n`,
  );
  for (const r of failed.slice(0, 5))
    io.stderr.write(
      `  ${r.channel} ${r.event}: ${terminalSafe(r.error ?? `HTTP ${r.status}`)} after ${r.attempts} attempt(s)\n`,
    );
}
