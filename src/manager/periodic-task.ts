import type { Logger } from 'pino';

/** A piece of work run every so often until stopped. */
export interface PeriodicTask {
  /** Stops the timer and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Runs `work` every `everyMs` (and at once when `runAtStart`), never two runs at a time: a tick that comes while
 * the previous run is still going is skipped, so a slow store cannot pile up checks. A failure is logged as an
 * error with `what`, and the next tick runs as usual.
 */
export function startPeriodicTask(what: string, everyMs: number, work: () => Promise<void>, log: Logger, runAtStart = false): PeriodicTask {
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running !== undefined) return;
    running = work()
      .catch((error: unknown) => log.error({ err: error }, `${what} failed`))
      .finally(() => {
        running = undefined;
      });
  };
  if (runAtStart) tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
