import type { PostgresDatabase, Queryable } from '../../storage/postgres/postgres-database.js';
import type { Blooms } from '../bloom-cache.js';
import type { ImportSession, KnownHashRow } from '../known-hash-store.js';
import { IdCache } from './postgres-ids.js';
import { ImportConnection, moveGeneration } from './postgres-import-window.js';

/** Rows per statement: large enough that the round trip is noise, small enough that a transaction stays short. */
const BATCH = 20_000;

/** Where an import session writes: one source of one database, and the filters its rows go into. */
export interface PostgresImportTarget {
  readonly db: PostgresDatabase;
  readonly sourceId: number;
  /** The in-memory Bloom filters to add each digest to, if this process keeps them. */
  readonly blooms: Blooms | undefined;
  /** Called once when a session that inserted rows has moved the database on to `generation`. */
  readonly moved: (generation: number) => void;
}

/**
 * An import session on PostgreSQL: rows are gathered into batches of up to BATCH, each sorted by digest (neighbouring
 * index pages) and written as one transaction of array-bound statements (`unnest`), so a million rows cost fifty
 * round trips, not a million; `add` writes the whole batches it gathered, the rest waits for the next `add` or for
 * `finish`, which commits it with the generation moved on. Batches committed before the end open the import's window
 * (`ImportConnection`: readers with filters ask the database until it ends); an import of one batch has none.
 * Duplicates are ignored (`ON CONFLICT DO NOTHING`); the declared mode of a path in a package is replaced, as in
 * SQLite. Hash-only (`bulk`) imports take the same path: PostgreSQL's own index build is what staging would buy.
 */
export function postgresImportSession(target: PostgresImportTarget): ImportSession {
  const { db, sourceId, blooms } = target;
  /** Open from the first batch committed before the end (see `ImportConnection`): the import's window. */
  let window: ImportConnection | undefined;
  const ids = new IdCache();
  let rows = 0;
  let inserted = 0;
  const write = async (tx: Queryable, batch: readonly KnownHashRow[]): Promise<number> => {
    await ids.resolve(
      tx,
      batch.flatMap((r) => (r.path === undefined ? [] : [r.path])),
      batch.flatMap((r) => (r.package === undefined ? [] : [r.package])),
    );
    const known = batch.filter((r) => r.bad !== true);
    const bad = batch.filter((r) => r.bad === true);
    let added = 0;
    if (known.length > 0) {
      const r = await tx.query(
        `INSERT INTO kh_known (digest, path_id, package_id, source_id) SELECT d, p, k, $4 FROM unnest($1::bytea[], $2::bigint[], $3::bigint[]) AS t (d, p, k)
          ON CONFLICT DO NOTHING`,
        [known.map((r) => r.digest), known.map((r) => ids.path(r.path)), known.map((r) => ids.package(r.package)), sourceId],
      );
      added += r.rowCount ?? 0;
    }
    if (bad.length > 0) {
      const r = await tx.query(
        'INSERT INTO kh_bad (digest, source_id, label) SELECT d, $3, l FROM unnest($1::bytea[], $2::text[]) AS t (d, l) ON CONFLICT DO NOTHING',
        [bad.map((r) => r.digest), bad.map((r) => r.label ?? null), sourceId],
      );
      added += r.rowCount ?? 0;
    }
    // One declaration per path and package: the last in the batch wins, as successive REPLACEs do in SQLite.
    const declared = new Map<string, [number, number, KnownHashRow]>();
    for (const r of known) {
      if (r.declared === undefined || r.path === undefined) continue;
      const key = [ids.path(r.path), ids.package(r.package)] as const;
      declared.set(key.join('/'), [key[0], key[1], r]);
    }
    if (declared.size > 0) {
      const list = [...declared.values()];
      const d = list.map(([, , r]) => r.declared as NonNullable<KnownHashRow['declared']>);
      await tx.query(
        `INSERT INTO kh_declared_modes (path_id, package_id, source_id, mode, uid, gid, owner, grp, observed)
         SELECT p, k, $3, m, u, g, o, gr, ob FROM unnest($1::bigint[], $2::bigint[], $4::int[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::boolean[])
           AS t (p, k, m, u, g, o, gr, ob)
         ON CONFLICT (path_id, package_id, source_id) DO UPDATE
           SET mode = excluded.mode, uid = excluded.uid, gid = excluded.gid, owner = excluded.owner, grp = excluded.grp, observed = excluded.observed`,
        [
          list.map(([p]) => p),
          list.map(([, k]) => k),
          sourceId,
          d.map((x) => x.mode & 0o7777),
          d.map((x) => x.uid ?? null),
          d.map((x) => x.gid ?? null),
          d.map((x) => x.owner ?? null),
          d.map((x) => x.group ?? null),
          d.map((x) => x.observed === true),
        ],
      );
    }
    return added;
  };
  // Small batches (one package's rows, as a dpkg import gives them) are gathered: a round trip costs the same for
  // ten rows as for twenty thousand.
  let pending: KnownHashRow[] = [];
  /** Writes what was gathered but the last slice (when `keepLast`), which is returned for the end's transaction. */
  const flush = async (keepLast: boolean): Promise<readonly KnownHashRow[]> => {
    const sorted = pending.sort((a, b) => Buffer.compare(a.digest, b.digest));
    pending = [];
    const last = keepLast ? Math.max(0, sorted.length - BATCH) : sorted.length;
    for (let i = 0; i < last; i += BATCH) {
      const chunk = sorted.slice(i, Math.min(i + BATCH, last));
      addToFilters(chunk);
      window ??= await ImportConnection.open(db);
      inserted += await window.batch((tx) => write(tx, chunk));
    }
    return sorted.slice(last);
  };
  // Into this process's filters before the commit, so its own lookups need no rebuild after the import and never
  // see a committed row the filters lack (a batch that fails leaves a few false "maybe"s, which ask the database).
  const addToFilters = (chunk: readonly KnownHashRow[]): void => {
    if (blooms !== undefined) for (const row of chunk) (row.bad === true ? blooms.bad : blooms.known).add(row.digest);
  };
  /** The source's row count gains what this session added (at its end, or after a failed batch). */
  const count = (tx: Queryable): Promise<unknown> => tx.query('UPDATE kh_sources SET rows = rows + $1 WHERE id = $2', [inserted, sourceId]);
  /** What the end commits: the last slice, the source's count, and (with rows added) the generation moved on. */
  const end = async (tx: Queryable, last: readonly KnownHashRow[]): Promise<void> => {
    if (last.length > 0) inserted += await write(tx, last);
    await count(tx);
  };
  return {
    add: async (batch) => {
      for (const row of batch) pending.push(row);
      rows += batch.length;
      if (pending.length < BATCH) return;
      try {
        // Whole batches only: a remainder waits for the next `add` (or the end).
        const rest = pending.length % BATCH;
        const keep = rest === 0 ? [] : pending.splice(pending.length - rest);
        await flush(false);
        pending = keep;
      } catch (error) {
        await fail();
        throw error;
      }
    },
    finish: async () => {
      let generation: number | undefined;
      try {
        const last = await flush(true);
        addToFilters(last);
        if (window === undefined) {
          // One batch in all: its rows and the generation move in one transaction, with no window at all.
          generation = await db.transaction(async (tx) => {
            await end(tx, last);
            return inserted > 0 ? moveGeneration(tx) : undefined;
          });
        } else {
          const open = window;
          window = undefined;
          generation = await open.end(
            (tx) => end(tx, last),
            () => inserted > 0,
          );
        }
      } catch (error) {
        await fail();
        throw error;
      }
      if (generation !== undefined) target.moved(generation);
      return { rows, inserted };
    },
  };

  /**
   * A batch failed: the session ends there. Batches committed before it stay, and the window closes as an end
   * would (the generation moved on when they added rows), so readers neither wait for it nor miss them; when even
   * that fails (the connection is gone), closing the connection releases the lock and readers close the window.
   */
  async function fail(): Promise<void> {
    const open = window;
    window = undefined;
    if (open === undefined) return;
    const generation = await open
      .end(
        async (tx) => {
          // The batches committed before the failure stay: the source's count says so.
          await count(tx);
        },
        () => inserted > 0,
      )
      .catch(() => undefined);
    if (generation !== undefined) target.moved(generation);
  }
}
