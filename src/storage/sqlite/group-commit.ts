import { dieAtTestFault } from '../../platform/test-fault.js';

/** When a group is written at once rather than at the next turn of the event loop. */
export interface GroupCommitLimits {
  /** Batches held at most (default 100). */
  readonly maxBatches?: number;
  /** Rows (baseline writes and history records) held at most (default 5,000, the standalone commit size). */
  readonly maxRows?: number;
}

interface Waiting<B> {
  readonly batch: B;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: batches handed in during one turn of the event loop (several agents' batches that arrived
 * together) are written in ONE SQLite transaction, and each caller's promise settles only once that transaction has
 * committed. A COMMIT's WAL write and bookkeeping cost the same for 60 rows as for 5,000, so a fleet of agents
 * sending small batches pays it once per group instead of once per batch.
 *
 * The group is first written without savepoints: one open savepoint makes SQLite copy every page a batch changes
 * into its statement journal first (to be able to roll back to it), which cost a lone agent's ingest more than the
 * group saved it. Only when that fails (a batch refused, say) is nothing of the group written, and the group is
 * written again with each batch in a savepoint of its own, so that only the failing batch is left out.
 *
 * What stays as it was:
 * - A batch is applied whole or not at all: one that throws (a `SequenceError`, say) is rolled back (with the whole
 *   first attempt, then to its savepoint) and only its caller sees the error; the others of the group commit.
 * - Nothing is acknowledged early: the caller acknowledges after its promise resolves, i.e. after the COMMIT.
 * - A crash before the COMMIT loses the whole group and no caller was answered, so every agent sends again;
 *   after it, every batch is applied and a resend is refused as a replay.
 *
 * Callers must not hand in two batches whose writes depend on each other's reads (two batches of one agent):
 * a batch's reads before `add` do not see the group's writes until it commits. The manager keeps each agent's
 * batches in order for that (`src/manager/batch-turns.ts`).
 */
export class GroupCommit<B> {
  readonly #apply: (batch: B) => void;
  readonly #transaction: (work: () => void) => void;
  readonly #inTransaction: () => boolean;
  readonly #rows: (batch: B) => number;
  readonly #maxBatches: number;
  readonly #maxRows: number;
  #waiting: Waiting<B>[] = [];
  #heldRows = 0;
  #scheduled: NodeJS.Immediate | undefined;

  /**
   * `apply` writes one batch (in the transaction `transaction` opens; a nested `transaction` call must be a
   * savepoint; `inTransaction` says whether one is open), `rows` says how big it is. `apply` may run twice for a
   * batch (again after a first attempt that was rolled back), so it must change nothing but the database.
   */
  constructor(
    apply: (batch: B) => void,
    transaction: { readonly run: (work: () => void) => void; readonly open: () => boolean },
    rows: (batch: B) => number,
    limits: GroupCommitLimits = {},
  ) {
    this.#apply = apply;
    this.#transaction = transaction.run;
    this.#inTransaction = transaction.open;
    this.#rows = rows;
    this.#maxBatches = limits.maxBatches ?? 100;
    this.#maxRows = limits.maxRows ?? 5000;
  }

  /** Queues `batch` for the group; resolves once it is committed, rejects with its own error (or the group's). */
  add(batch: B): Promise<void> {
    const promise = new Promise<void>((resolve, reject) => this.#waiting.push({ batch, resolve, reject }));
    this.#heldRows += this.#rows(batch);
    if (this.#waiting.length >= this.#maxBatches || this.#heldRows >= this.#maxRows) this.flush();
    // The rest of this turn of the event loop (the other requests read in the same poll) joins the group.
    else this.#scheduled ??= setImmediate(() => this.flush());
    return promise;
  }

  /** Batches waiting for the next COMMIT. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Writes what is waiting now, in one transaction (synchronously), then settles each caller's promise. */
  flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const group = this.#waiting;
    this.#waiting = [];
    this.#heldRows = 0;
    if (group.length === 0) return;
    try {
      this.#transaction(() => {
        for (const waiting of group) this.#apply(waiting.batch);
      });
    } catch (error) {
      // Rolled back whole: nothing of the group is written. A lone batch's error is its own; a group is written
      // again, batch by batch in savepoints, so that the others commit and only the failing batch is refused.
      if (group.length === 1) (group[0] as Waiting<B>).reject(error);
      else this.#flushInSavepoints(group);
      return;
    }
    this.#settle(group, new Map());
  }

  /** Writes `group` in one transaction, each batch in a savepoint: a batch that throws is left out alone. */
  #flushInSavepoints(group: readonly Waiting<B>[]): void {
    const failed = new Map<Waiting<B>, unknown>();
    try {
      this.#transaction(() => {
        for (const waiting of group) {
          try {
            this.#transaction(() => this.#apply(waiting.batch));
          } catch (error) {
            // Some errors (a full disk, an I/O error) make SQLite roll the whole transaction back, savepoints and
            // all: then nothing of the group is written, and every caller must hear it, not only this one.
            if (!this.#inTransaction()) throw error;
            failed.set(waiting, error);
          }
        }
      });
    } catch (error) {
      // The COMMIT itself failed (disk full, I/O error): nothing of the group is written, every caller hears it.
      for (const waiting of group) waiting.reject(error);
      return;
    }
    this.#settle(group, failed);
  }

  /** Answers each caller of a committed group: its own error if its batch was left out, else success. */
  #settle(group: readonly Waiting<B>[], failed: ReadonlyMap<Waiting<B>, unknown>): void {
    // Committed, and no caller answered yet: a crash here must lose no batch and apply none twice.
    if (group.length > 1) dieAtTestFault('exit-after-group-commit');
    for (const waiting of group) {
      if (failed.has(waiting)) waiting.reject(failed.get(waiting));
      else waiting.resolve();
    }
  }
}
