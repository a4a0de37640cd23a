import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { processEnded, thisProcess, type ProcessIdentity } from '../platform/process-identity.js';
import type { KnownHashStatements } from './sqlite-known-hash-statements.js';

/** How often lookups ask SQLite whether an import is in progress, when another connection committed (as `BLOOM_RECHECK_MS`). */
const RECHECK_MS = 50;
/**
 * While one is, how often its markers are read again even when nothing was committed: an importer killed in the
 * middle commits nothing more, and is found dead this long after at most.
 */
const OPEN_RECHECK_MS = 1000;

/** One import session's marker: written with each batch it commits, removed when it ends. */
export interface ImportMarker {
  /** Writes the marker; called inside each transaction that commits the session's rows. */
  mark(): void;
  /**
   * The session ended: its marker goes, in the transaction that moves the generation on when it added rows (`bump`
   * runs inside it; none: it added nothing). Returns what `bump` returned.
   */
  end<T>(bump?: () => T): T | undefined;
}

/**
 * Whether the saved Bloom filters and digest index may be believed for lookups now, given imports in progress.
 * An import commits its rows in batches and moves the generation only when it ends, so until then the filters and
 * the index (current for the generation) lack the batches already committed: a digest they call absent may be in
 * the database, a known-bad one among them. So every import session writes a marker row (`import-in-progress:<token>` in
 * `meta`, naming its process) in the transaction of each batch, and removes it in the one that moves the
 * generation on; while a marker is there, lookups ask SQLite (`open` is true) and the filters stay in memory, to
 * be brought on from the log once the import's block is there. A marker whose process has ended (an import killed
 * in the middle) is removed and the generation moved on in one transaction: the rows it committed are in the
 * database and in no filter, so the saved files are stale from then on and are rebuilt, as after any import that
 * could not log. A reader that cannot write (a read-only mount) leaves it and keeps asking SQLite.
 */
export class ImportWindow {
  readonly #db: Database.Database;
  readonly #stmts: KnownHashStatements;
  readonly #now: () => number;
  /** This connection's own sessions still open: its commits do not move its own `data_version`. */
  readonly #own = new Set<string>();
  /** Told when this connection moved the generation on behind the caches' back (a dead import's marker removed). */
  readonly #onGenerationMoved: () => void;
  #open = false;
  #changeCounter = -1;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #rereadAt = 0;

  constructor(db: Database.Database, stmts: KnownHashStatements, onGenerationMoved: () => void, now: () => number = () => performance.now()) {
    this.#db = db;
    this.#stmts = stmts;
    this.#onGenerationMoved = onGenerationMoved;
    this.#now = now;
  }

  /** A marker for a new import session on this connection. */
  session(): ImportMarker {
    const key = `import-in-progress:${randomBytes(8).toString('hex')}`;
    const value = JSON.stringify(thisProcess());
    this.#own.add(key);
    let marked = false;
    return {
      mark: () => {
        this.#stmts.putImport.run(key, value);
        marked = true;
      },
      end: <T>(bump?: () => T): T | undefined => {
        try {
          // A session that never committed a batch (nothing to import) has no marker to remove: no transaction.
          if (!marked && bump === undefined) return undefined;
          return this.#db
            .transaction(() => {
              this.#stmts.dropImport.run(key, value);
              return bump?.();
            })
            .immediate();
        } finally {
          // Even when that failed: the marker (if it stayed) is seen as another's, not as this connection's forever.
          this.#own.delete(key);
          this.#checkedAt = Number.NEGATIVE_INFINITY;
        }
      },
    };
  }

  /**
   * True while an import is in progress (on this connection, or committed by another and not yet ended): lookups
   * must then ask SQLite, not the filters or the index. Another connection's marker is seen within RECHECK_MS of
   * its commit. `now`: the caller's reading of the clock, shared with the caches' own checks (a clock read costs
   * more than the rest of this, ~0.15 µs).
   */
  open(now: number = this.#now()): boolean {
    if (this.#own.size > 0) return true;
    if (now - this.#checkedAt < RECHECK_MS) return this.#open;
    this.#checkedAt = now;
    const counter = Number(this.#stmts.dataVersion.get());
    if (counter === this.#changeCounter && (!this.#open || now < this.#rereadAt)) return this.#open;
    this.#changeCounter = counter;
    this.#rereadAt = now + OPEN_RECHECK_MS;
    this.#open = this.#readMarkers();
    return this.#open;
  }

  /** Whether a live import's marker is there; markers of ended processes are removed on the way. */
  #readMarkers(): boolean {
    let live = false;
    for (const [key, value] of this.#stmts.imports.all() as [string, string][]) {
      if (this.#own.has(key)) continue;
      if (!ended(value)) {
        live = true;
        continue;
      }
      try {
        const moved = this.#db
          .transaction(() => this.#stmts.dropImport.run(key, value).changes > 0 && this.#stmts.bumpGeneration.run().changes > 0)
          .immediate();
        if (moved) this.#onGenerationMoved();
      } catch {
        live = true; // cannot write (read-only, busy): the marker stays, and so does the window
      }
    }
    return live;
  }
}

/** Whether a marker's process has certainly ended; a marker that cannot be read is taken to be live. */
function ended(value: string): boolean {
  let who: ProcessIdentity;
  try {
    who = JSON.parse(value) as ProcessIdentity;
  } catch {
    return false;
  }
  return typeof who.pid === 'number' && processEnded(who);
}
