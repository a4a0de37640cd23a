import type { Logger } from 'pino';
import { BatchResponse } from '../protocol/wire.js';
import type { AgentState } from './agent-state.js';
import { callManager, ManagerUnreachable, type ManagerEndpoint } from './manager-client.js';

/** What the sender needs from the rest of the agent. */
export interface OutboxSenderDeps {
  readonly state: AgentState;
  readonly endpoint: ManagerEndpoint;
  readonly log: Logger;
  /** Reports the host's package changes before the batches that carry their files (may throw ManagerUnreachable). */
  readonly beforeEachBatch: () => Promise<void>;
  /** Waits until a batch of this many observations may be sent (Wazuh's `max_eps`); absent: no limit. */
  readonly paceBatch?: (events: number) => Promise<void>;
  /** The manager wants a full resync: queue one (the state has been reset for it already). */
  readonly resync: () => void;
  /** The manager has applied more than this state numbered: see AgentRunner's stateLost. */
  readonly stateLost: (ack: number, askedAtGeneration: number, via: string) => void;
  /** First retry after a failure, doubled up to `maxBackoffMs` (ms). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How long an idle sender sleeps before it looks at the outbox again without being woken (ms). */
  readonly idleMs?: number;
  /** The outbox went empty after `batches` deliveries (the agent gives back the memory a large delivery needed). */
  readonly drained?: (batches: number) => void;
}

/**
 * Delivers the durable outbox, oldest first, one batch at a time, until each is acknowledged, across restarts and
 * outages: it backs off (0.5 s doubling to 60 s) while the manager is unreachable or refuses, and acts on what the
 * manager says: `resync` (its baseline differs), a 409 `duplicate` (applied before, only the acknowledgement was
 * lost), `stateLost` (this state is behind), or a gap (the manager is missing earlier batches: start over).
 */
export class OutboxSender {
  readonly #deps: OutboxSenderDeps;
  #closed = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(deps: OutboxSenderDeps) {
    this.#deps = deps;
  }

  /** Starts delivering; a bug (anything but an unreachable manager) stops the loop and is logged as an error. */
  start(): void {
    this.#loop ??= this.#run().catch((error: unknown) => this.#deps.log.error({ err: error }, 'sender stopped'));
  }

  /** Something was enqueued: look at the outbox now rather than at the next idle tick. */
  wake(): void {
    this.#wake?.();
  }

  /** Stops after the batch in flight, if any. */
  async close(): Promise<void> {
    this.#closed = true;
    this.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { state, log } = this.#deps;
    const firstBackoff = this.#deps.backoffMs ?? 500;
    let backoff = firstBackoff;
    let delivered = 0;
    while (!this.#closed) {
      const entry = state.oldest();
      if (entry === undefined) {
        // Told before the log line: what `drained` gives back is given back when the line says the delivery is over.
        if (delivered > 0) this.#deps.drained?.(delivered);
        if (delivered > 0) log.info({ batches: delivered }, 'outbox delivered');
        delivered = 0;
        await this.#sleep(this.#deps.idleMs ?? 1000, true);
        continue;
      }
      try {
        const outcome = await this.#sendOne(entry);
        if (outcome === 'delivered' || outcome === 'handled') {
          if (outcome === 'delivered') delivered++;
          backoff = firstBackoff;
          continue;
        }
      } catch (error) {
        if (!(error instanceof ManagerUnreachable)) throw error;
        log.warn({ reason: error.message, outbox: state.outboxSize(), retryInMs: backoff }, 'manager unreachable; keeping the outbox');
      }
      await this.#sleep(backoff, false);
      backoff = Math.min(backoff * 2, this.#deps.maxBackoffMs ?? 60_000);
    }
  }

  /** The manager has the batch: off the outbox; with `resync`, its baseline differs from this state, so queue one. */
  #delivered(seq: number, resync: boolean): 'delivered' {
    this.#deps.state.acknowledge(seq);
    if (resync) {
      this.#deps.log.warn("the manager asks for a full resync (its baseline differs from this agent's state)");
      this.#deps.state.resetForResync({ dropOutbox: false });
      this.#deps.resync();
    }
    return 'delivered';
  }

  /** One attempt at the oldest batch: delivered, handled (the outbox changed), or refused (retry later). */
  async #sendOne(entry: { seq: number; body: unknown }): Promise<'delivered' | 'handled' | 'refused'> {
    const { state, log, endpoint } = this.#deps;
    const generation = state.generation;
    await this.#deps.beforeEachBatch();
    await this.#deps.paceBatch?.((entry.body as { observations?: readonly unknown[] } | undefined)?.observations?.length ?? 0);
    const reply = await callManager(endpoint, 'POST', '/v1/batches', entry.body);
    const body = BatchResponse.safeParse(reply.body);
    if (reply.status === 200 && body.success) {
      return this.#delivered(entry.seq, body.data.resync === true);
    }
    if (reply.status === 409 && body.success) {
      if (body.data.stateLost === true) {
        this.#deps.stateLost(body.data.ack, generation, 'a batch');
        return 'handled';
      }
      // Provably applied before (the manager holds this very batch); only the acknowledgement was lost. A manager
      // too old to say so is trusted on its number, as before.
      if (body.data.duplicate === true || (body.data.duplicate === undefined && body.data.ack >= entry.seq)) {
        // A resync it asked for when it applied the batch is asked again: that reply may have been lost to a crash.
        return this.#delivered(entry.seq, body.data.resync === true);
      }
      log.error({ seq: entry.seq, managerHas: body.data.ack }, 'the manager is missing earlier batches; starting over with a full resync');
      state.resetForResync({ dropOutbox: true, nextSeq: body.data.ack + 1 });
      this.#deps.resync();
      return 'handled';
    }
    log.error({ status: reply.status, error: (reply.body as { error?: unknown } | undefined)?.error, seq: entry.seq }, 'the manager refused a batch');
    return 'refused';
  }

  /** Waits `ms`, or less when woken (an idle wait) or closed. */
  #sleep(ms: number, wakeable: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      if (wakeable || this.#closed) this.#wake = resolve;
      else
        this.#wake = () => {
          // Only close cuts a back-off short: a new batch must not make a refused one go again at once.
          if (this.#closed) resolve();
        };
    });
  }
}
