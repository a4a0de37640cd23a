import type { Logger } from 'pino';
import { dpkgDatabaseStamp } from '../host/dpkg-database.js';
import type { AgentState } from './agent-state.js';
import { ManagerUnreachable } from './manager-client.js';
import type { PackageReporter } from './package-reporter.js';

/**
 * Reports the host's package changes before the batches that carry their files (the manager judges those with
 * it), one report at a time (the sender and the keep-alive both ask). A report the manager refuses is logged and
 * not retried until dpkg changes something again: the files then alert as unexplained, never held back. An
 * unreachable manager is the caller's to retry.
 */
export class PackageReportGate {
  readonly #deps: { readonly reporter: PackageReporter; readonly state: AgentState; readonly root: string; readonly log: Logger };
  #failedAt: string | undefined;
  #reporting: Promise<void> | undefined;

  constructor(deps: { readonly reporter: PackageReporter; readonly state: AgentState; readonly root: string; readonly log: Logger }) {
    this.#deps = deps;
  }

  /** Reports what changed since the manager last heard, or joins the report already under way. */
  report(): Promise<void> {
    this.#reporting ??= this.#reportOnce().finally(() => {
      this.#reporting = undefined;
    });
    return this.#reporting;
  }

  async #reportOnce(): Promise<void> {
    const { reporter, state, root, log } = this.#deps;
    if (!reporter.pending()) return;
    const stamp = `${state.generation}:${dpkgStampOrNone(root)}`;
    if (stamp === this.#failedAt) return;
    try {
      await reporter.report();
    } catch (error) {
      if (error instanceof ManagerUnreachable) throw error;
      this.#failedAt = stamp;
      log.error({ reason: (error as Error).message }, 'could not report the package changes: they will alert at the manager as unexplained');
    }
  }
}

function dpkgStampOrNone(root: string): string {
  try {
    return dpkgDatabaseStamp(root);
  } catch {
    return 'none';
  }
}
