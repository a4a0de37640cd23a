import type { SerialQueue } from '../core/serial-queue.js';
import type { Store } from '../storage/store.js';

/**
 * The order agent batches are applied in. Each batch is applied in the fleet-wide turn (`turns`, shared with package
 * reports), one at a time as before; and each agent's batches one after the other, whole (the next starts only once
 * the one before is committed or refused), so a batch always reads what its agent's previous one wrote.
 *
 * With a store that groups commits (`groupsCommits`, SQLite on the manager), the fleet-wide turn ends as soon as the
 * batch has handed its writes to the store, not when they are committed: the next agent's batch is worked out while
 * the first waits for its group's COMMIT, and both commit in one transaction. The caller still hears of its batch
 * only after that COMMIT (its acknowledgement follows a durable write), and the per-agent order keeps two batches of
 * one agent out of one group.
 */
export class BatchTurns {
  readonly #turns: SerialQueue;
  readonly #grouping: GroupingStore | undefined;
  readonly #agents = new Map<string, Promise<unknown>>();

  constructor(turns: SerialQueue, store: Store) {
    this.#turns = turns;
    const grouping = store as Partial<GroupingStore>;
    this.#grouping = grouping.groupsCommits === true ? (store as unknown as GroupingStore) : undefined;
  }

  /** Runs `work` for one batch of `agentId`, after that agent's earlier batches, in the fleet-wide turn. */
  run<T>(agentId: string, work: () => Promise<T>): Promise<T> {
    const before = this.#agents.get(agentId) ?? Promise.resolve();
    const result = before.then(() => this.#inTurn(work));
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#agents.set(agentId, settled);
    void settled.then(() => {
      if (this.#agents.get(agentId) === settled) this.#agents.delete(agentId);
    });
    return result;
  }

  /** `work` in the fleet-wide turn; the turn ends when `work` settles or, with grouped commits, hands in its batch. */
  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    const grouping = this.#grouping;
    if (grouping === undefined) return this.#turns.run(work);
    return new Promise<T>((resolve, reject) => {
      void this.#turns.run(
        () =>
          new Promise<void>((resolveTurn) => {
            // One batch is in the turn at a time, so the store's one hook is this batch's while its turn lasts.
            const release = (): void => {
              if (grouping.onBatchHandedIn === release) grouping.onBatchHandedIn = undefined;
              resolveTurn();
            };
            grouping.onBatchHandedIn = release;
            work().then(resolve, reject).finally(release);
          }),
      );
    });
  }
}

/** A store that groups commits (`SqliteStore` opened with `groupCommit`), as `BatchTurns` sees it. */
interface GroupingStore {
  readonly groupsCommits: true;
  onBatchHandedIn: (() => void) | undefined;
}
