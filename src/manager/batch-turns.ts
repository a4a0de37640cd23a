import type { SerialQueue } from '../core/serial-queue.js';
import type { ChangeBatch, Store } from '../storage/store.js';

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
  readonly #store: Store;
  readonly #early: boolean;
  readonly #agents = new Map<string, Promise<unknown>>();

  constructor(turns: SerialQueue, store: Store) {
    this.#turns = turns;
    this.#store = store;
    this.#early = (store as { readonly groupsCommits?: boolean }).groupsCommits === true;
  }

  /** Runs `work` for one batch of `agentId`, after that agent's earlier batches, in the fleet-wide turn. */
  run<T>(agentId: string, work: (store: Store) => Promise<T>): Promise<T> {
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
  #inTurn<T>(work: (store: Store) => Promise<T>): Promise<T> {
    if (!this.#early) return this.#turns.run(() => work(this.#store));
    return new Promise<T>((resolve, reject) => {
      void this.#turns.run(
        () =>
          new Promise<void>((release) => {
            work(releasingAtCommit(this.#store, release)).then(resolve, reject).finally(release);
          }),
      );
    });
  }
}

/**
 * The store as `work` sees it: the same store, whose `commit` of an agent batch (one with a sequence) ends the turn
 * once the batch is handed in. Other commits (retiring unmonitored paths, say) keep the turn.
 */
function releasingAtCommit(store: Store, release: () => void): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'commit') {
        return (batch: ChangeBatch): Promise<void> => {
          const committed = target.commit(batch);
          if (batch.sequence !== undefined) release();
          return committed;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
