import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { SyscheckConfig } from '../core/config/custos-config.js';
import type { Observation } from '../core/observation.js';
import { displayPath, isWithin, subtreeKeyRange } from '../core/path-bytes.js';
import type { ScanScope } from '../core/scan-scope.js';
import type { AgentState } from './agent-state.js';
import { BATCH_CONTENT_BYTES, contentAttacher } from './attach-content.js';
import type { HashPool } from './hash-pool.js';
import { readMountTable } from './mount-table.js';
import { ScanPacer } from './scan-pacer.js';
import { createScanStats } from './scan-stats.js';
import { scanTree } from './scan-tree.js';
import type { ThreadPriority } from './thread-priority.js';
import { unscannedSubtrees } from './unscanned-subtrees.js';
import { readUserNames } from './user-names.js';

/** What one agent scan works with: the agent's state and outbox, its hashing pool and its current settings. */
export interface AgentScanDeps {
  readonly agentId: string;
  readonly state: AgentState;
  readonly pool: HashPool;
  readonly log: Logger;
  readonly syscheck: SyscheckConfig;
  readonly throttle: NonNullable<SyscheckConfig['throttle']>;
  readonly priority: ThreadPriority;
  /** Tells the sender there is something new in the outbox. */
  readonly wake: () => void;
}

/** Which scan this is. */
export interface AgentScanKind {
  /** A scheduled scan (it ends with the state digest); false: a realtime scan of a few paths. */
  readonly scheduled: boolean;
  /** A full (resync) scan: every entry is reported, none skipped by the cache. */
  readonly full: boolean;
  /** Paths realtime scans reported while this scan ran, which it leaves to them (their state is newer). */
  readonly touched?: readonly Buffer[];
}

const BATCH_SIZE = 500;

/** No cached fingerprints: every entry is reported. */
async function* noCache(): AsyncGenerator<readonly { key: Buffer; fingerprint: string }[]> {
  // nothing cached
}

/**
 * Scans `scope` and queues what changed in the outbox, in batches of 500 observations (or of report_changes
 * content up to BATCH_CONTENT_BYTES); a scheduled scan ends with the digest of the agent's whole state. The scan
 * stops when the agent state is reset while it runs (what it would still send belongs to the dropped state) or
 * when the outbox overflows (the state is then reset for a resync, and the manager told).
 */
export async function runAgentScan(deps: AgentScanDeps, scope: ScanScope, kind: AgentScanKind): Promise<void> {
  const { state, log, syscheck } = deps;
  const { scheduled, full, touched } = kind;
  const generation = state.generation;
  const scanId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const started = Date.now();
  const stats = createScanStats();
  let batch: Observation[] = [];
  let first = true;
  const roots = scope.topLevelRoots.map((r) => r.path);
  const enqueue = (seen: readonly Observation[], end?: { digest: string; entries: number }): boolean => {
    // A realtime scan reported these paths after this scan may have seen them: its state is the newer one.
    const observations = touched === undefined || touched.length === 0 ? seen : seen.filter((o) => !touched.some((t) => isWithin(o.path, t)));
    const unscannable = stats.unscannableRoots.slice(0, 256).map((r) => ({ p: r.path.toString('base64'), reason: r.reason.slice(0, 1024) }));
    // Only to a manager that said it takes them: an older one refuses a batch with fields it does not know.
    const continuity = state.getMeta('manager_continuity') !== undefined;
    const subtrees = unscannedSubtrees(stats);
    // Subtrees came with the inode attributes (one release): a manager that takes those takes these.
    const takesSubtrees = state.getMeta('manager_inode_attributes') !== undefined;
    const seq = state.enqueue(
      deps.agentId,
      observations,
      {
        ...(scheduled ? { scan: { id: scanId, full, first } } : {}),
        ...(end === undefined
          ? {}
          : {
              end: {
                id: scanId,
                full,
                digest: end.digest,
                entries: end.entries,
                durationMs: Date.now() - started,
                ...(continuity ? { roots: roots.map((r) => r.toString('base64')) } : {}),
                ...(continuity && unscannable.length > 0 ? { unscannable } : {}),
                ...(takesSubtrees && subtrees.length > 0 ? { unscannedSubtrees: subtrees } : {}),
              },
            }),
      },
      generation,
    );
    first = false;
    if (seq === 'stale') {
      log.warn({ scanId }, 'scan abandoned: the agent state was reset while it ran');
      return false;
    }
    if (seq === undefined) {
      log.error(
        { outbox: state.outboxSize() },
        'the outbox is full (the manager has been unreachable too long): dropping it; the next scan resends everything and the manager is told',
      );
      state.resetForResync({ dropOutbox: true, notice: 'outbox-overflow' });
      return false;
    }
    deps.wake();
    return true;
  };
  const pacer = scheduled && ScanPacer.limits(deps.throttle) ? new ScanPacer(deps.throttle, availableParallelism()) : undefined;
  const observations = scanTree({
    scope,
    mounts: readMountTable(syscheck.skip),
    pool: deps.pool,
    names: readUserNames('/'),
    maxFileSizeBytes: syscheck.maxFileSizeBytes,
    rehash: false,
    // A full scan reports every entry: the manager sweeps what it does not hear of, so nothing may be skipped
    // because a realtime change put it in the cache meanwhile.
    cache: full ? noCache() : state.readFingerprints(scope.topLevelRoots.map((r) => subtreeKeyRange(r.path))),
    stats,
    // A realtime batch is a few paths: starting a walk thread would cost more than the walk.
    walkInThread: scheduled,
    checkRoots: scheduled,
    walkPriority: deps.priority,
    ...(pacer === undefined ? {} : { pacer }),
  });
  // report_changes content goes only to a manager that said it takes it (an older one refuses unknown fields).
  const attach = state.getMeta('manager_content_diffs') === undefined ? undefined : contentAttacher(syscheck);
  let contentBytes = 0;
  for await (const chunk of observations) {
    for (const observed of chunk) {
      const attached = attach?.(observed);
      batch.push(attached?.observation ?? observed);
      contentBytes += attached?.contentBytes ?? 0;
      if (batch.length >= BATCH_SIZE || contentBytes >= BATCH_CONTENT_BYTES) {
        if (!enqueue(batch)) return;
        batch = [];
        contentBytes = 0;
      }
    }
  }
  if (batch.length > 0 && !enqueue(batch)) return;
  if (scheduled) {
    // What the cache holds outside the directories now watched is no longer monitored (the manager retires it).
    if (generation === state.generation) state.retainOnly(roots.map((r) => subtreeKeyRange(r)));
    if (!enqueue([], state.digest())) return;
    if (full) state.fullScanDone();
    state.setMeta('last_scan_end', String(Date.now()));
  }
  for (const root of stats.unscannableRoots) log.warn({ path: displayPath(root.path), reason: root.reason }, 'nothing scanned in a monitored directory');
  const pacing = pacer === undefined ? {} : { pacing: pacer.pacing };
  log.info(
    { full, scheduled, entries: stats.entries, hashed: stats.hashed, durationMs: Date.now() - started, outbox: state.outboxSize(), ...pacing },
    scheduled ? 'scan finished' : 'realtime changes scanned',
  );
}
