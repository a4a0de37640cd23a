import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SyscheckConfig } from '../core/config/custos-config.js';
import { getPriority } from 'node:os';
import { DEFAULT_SCAN_THROTTLE } from '../core/config/scan-throttle-config.js';
import { FOOTPRINT_META_KEY, footprintReport, measureFootprint } from './agent-footprint.js';
import { RateLimiter } from './rate-limiter.js';
import { limitMallocArenas, RealtimeActivity, releaseAfterDelivery, releaseHeapIfGrown, releaseScanMemory } from './release-memory.js';
import { ScanPacer } from './scan-pacer.js';
import type { ThreadPriority } from './thread-priority.js';
import { compileScanScope, type ScanScope } from '../core/scan-scope.js';
import { SerialQueue } from '../core/serial-queue.js';
import { KeepaliveResponse } from '../protocol/wire.js';
import { AgentState } from './agent-state.js';
import type { AgentIdentity } from './enroll-agent.js';
import { dpkgBusy } from '../host/dpkg-lock.js';
import { HashPool } from './hash-pool.js';
import { runAgentScan } from './agent-scan.js';
import { PackageReportGate } from './package-report-gate.js';
import { PackageReporter } from './package-reporter.js';
import { CentralConfigPoller } from './central-config-poller.js';
import { callManager, type ManagerEndpoint } from './manager-client.js';
import { OutboxSender } from './outbox-sender.js';
import { readMountTable } from './mount-table.js';
import { ScanScheduler } from './scan-scheduler.js';
import { realtimeIgnores } from './realtime-ignores.js';
import { watchRealtime, type RealtimeWatcher } from './realtime-watcher.js';

/** Everything a running agent is made of. */
export interface AgentRunnerOptions {
  readonly dataDir: string;
  readonly identity: AgentIdentity;
  readonly endpoint: ManagerEndpoint;
  /** The local FIM settings; the manager's central configuration replaces them when it has one. */
  readonly syscheck: SyscheckConfig;
  /** Parses central configuration text (custos.yml) into FIM settings. */
  readonly parseCentral: (yaml: string) => SyscheckConfig;
  readonly keepaliveMs: number;
  readonly logger: Logger;
  readonly maxOutbox?: number;
  readonly hashWorkers?: number;
  /** Where the host's package database is (`/`; a host mounted into the agent's container elsewhere). */
  readonly packageRoot?: string;
}

/** A running agent. */
export interface RunningAgent {
  /** Runs a scheduled scan now (queued behind any scan in progress). */
  scanNow(): Promise<void>;
  close(): Promise<void>;
}

const DPKG_WAIT_MS = 10 * 60_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The agent: scheduled scans (frequency, or `scan_time`/`scan_day`, and on start), realtime watching of the
 * directories marked `realtime`, and a sender that delivers the durable outbox in order, batch by batch, until
 * each is acknowledged, across restarts and outages. After each scan it sends the digest of its whole state; when
 * the manager finds its baseline differs, or the outbox overflowed, the next scan is a full resync. Scans never
 * run two at a time.
 */
export async function startAgent(options: AgentRunnerOptions): Promise<RunningAgent> {
  const { logger, identity } = options;
  const log = logger.child({ component: 'agent', agentId: identity.agentId });
  limitMallocArenas();
  const endpoint: ManagerEndpoint = { ...options.endpoint, onFailover: (from, to, reason) => log.warn({ from, to, reason }, 'manager failover') };
  const state = AgentState.open(join(options.dataDir, 'agent.db'), options.maxOutbox);
  const packageRoot = options.packageRoot ?? '/';
  const reporter = new PackageReporter({ endpoint, memory: state, log, root: packageRoot });
  const central = new CentralConfigPoller(options.syscheck, options.parseCentral, endpoint, log);
  const throttle = (): NonNullable<SyscheckConfig['throttle']> => central.current.throttle ?? DEFAULT_SCAN_THROTTLE;
  const scanPriority = (): ThreadPriority => ({ nice: throttle().processPriority, io: throttle().ioPriority });
  const pool = new HashPool(options.hashWorkers, { priority: scanPriority });
  // The non-full scheduled scan running now, and the paths realtime scans looked at meanwhile (see realtimeScan).
  let scheduledRun: { readonly full: boolean; readonly touched: Buffer[] } | undefined;
  let realtimeChain: Promise<unknown> = Promise.resolve();
  let eventLimit: RateLimiter | undefined;
  const realtimeActivity = new RealtimeActivity();
  let closed = false;
  // Scans (scheduled, realtime, resyncs) never run two at a time: each is queued behind the one in progress.
  const scans = new SerialQueue();
  let watcher: RealtimeWatcher | undefined;
  const timers: NodeJS.Timeout[] = [];

  const serial = (work: () => Promise<void>): Promise<void> => {
    // After the realtime scans that ran beside the last scheduled one.
    const next = scans.run(async () => {
      await realtimeChain;
      await work();
    });
    next.catch((error: unknown) => log.error({ err: error }, 'scan failed'));
    return next;
  };
  const wake = (): void => {
    sender.wake();
  };

  /** Scans a scope and enqueues what changed; a scheduled scan (`end`) also sends the state digest. */
  let saidDisabled = false;
  const scan = async (scope: ScanScope, scheduled: boolean): Promise<void> => {
    // OSSEC's <disabled>yes</disabled>: nothing scanned and nothing sent, so the manager's baseline stays as it was.
    if (central.current.disabled) {
      if (!saidDisabled) log.warn('syscheck is disabled in the configuration: nothing is scanned');
      saidDisabled = true;
      return;
    }
    const full = scheduled && state.needsFullScan();
    // Only a paced (throttled, possibly long) scheduled scan lets realtime changes run beside it: an unpaced one ends
    // soon, and a realtime batch that overtook a first scan's end would alert as added what is the new baseline.
    const run = scheduled && ScanPacer.limits(throttle()) ? { full, touched: [] as Buffer[] } : undefined;
    if (run !== undefined) scheduledRun = run;
    try {
      const deps = { agentId: identity.agentId, state, pool, log, syscheck: central.current, throttle: throttle(), priority: scanPriority(), wake };
      await runAgentScan(deps, scope, { scheduled, full, ...(run === undefined ? {} : { touched: run.touched }) });
    } finally {
      if (run !== undefined && scheduledRun === run) scheduledRun = undefined;
    }
    // Give back what the scan needed (threads, caches, heap, code pages): an idle agent stays small. What a realtime
    // scan needed is given back once realtime has been quiet for a keep-alive period (see keepalive).
    if (scheduled) {
      const { rssBeforeBytes, rssAfterBytes } = await releaseScanMemory({ pool, state });
      realtimeActivity.released();
      log.info({ rssBeforeMb: Math.round(rssBeforeBytes / 2 ** 20), rssAfterMb: Math.round(rssAfterBytes / 2 ** 20) }, 'scan memory released');
    } else realtimeActivity.noted();
  };
  const scheduledScan = (): Promise<void> => serial(() => scan(compileScanScope(central.current), true));
  const realtimeScan = (paths: readonly string[]): Promise<void> => {
    const work = async (): Promise<void> => {
      // While dpkg unpacks, its database does not yet say what the new files are: wait for the run to end (up to
      // DPKG_WAIT_MS), so they reach the manager after the package report that explains them.
      for (const until = Date.now() + DPKG_WAIT_MS; dpkgBusy(packageRoot) && Date.now() < until && !closed;) await sleep(500);
      const scope = compileScanScope(central.current);
      // Only what a realtime directory governs: an event elsewhere (an ignored path) is dropped here.
      const wanted = paths.filter((p) => scope.governing(Buffer.from(p))?.directory.realtime === true);
      if (wanted.length === 0) return;
      scheduledRun?.touched.push(...wanted.map((p) => Buffer.from(p)));
      await scan(compileScanScope(central.current, wanted), false);
    };
    // During a (throttled, possibly long) scheduled scan a realtime change does not wait for its end: it is
    // scanned beside it, and the scheduled scan leaves the paths it reported alone. A full scan (a resync, which
    // the manager sweeps by) must report every entry itself, so realtime changes wait for it.
    if (scheduledRun === undefined || scheduledRun.full) return serial(work);
    const next = realtimeChain.then(work);
    realtimeChain = next.catch((error: unknown) => log.error({ err: error }, 'realtime scan failed'));
    return next;
  };

  const restartWatcher = async (): Promise<void> => {
    await watcher?.close();
    const syscheck = central.current;
    const dirs = syscheck.disabled ? [] : syscheck.directories.filter((d) => d.realtime).map((d) => d.path);
    const mounts = readMountTable(syscheck.skip);
    const current = syscheck;
    watcher = await watchRealtime(dirs, { onPaths: (paths) => void realtimeScan(paths), onRescan: (dir) => void realtimeScan([dir]) }, (m) => log.warn(m), {
      ignore: (dir) => realtimeIgnores(dir, current, mounts),
    });
    if (dirs.length > 0) log.info({ dirs, native: watcher.native, polled: watcher.polled }, 'watching in realtime');
  };

  /**
   * The manager applied more of this agent's batches than this state numbered: the state was lost (a deleted or
   * damaged agent.db) or rolled back (a restore). Drop what it queued, number on from the manager's count, and
   * resynchronise at once with a full scan, which the manager compares with its baseline: every change since alerts.
   * Acted on once: an answer to a question asked before a reset is stale.
   */
  const stateLost = (ack: number, askedAt: number, via: string): void => {
    if (askedAt !== state.generation) return;
    log.error(
      { managerHas: ack, numberedUpTo: state.highestSeq(), via },
      "the manager has applied more batches than this agent's state knows (state lost or rolled back): resynchronising",
    );
    state.resetForResync({ dropOutbox: true, nextSeq: ack + 1 });
    void scheduledScan();
  };

  const packages = new PackageReportGate({ reporter, state, root: packageRoot, log });
  const reportPackages = (): Promise<void> => packages.report();

  /** Wazuh's `max_eps`: observations sent per second, at most (a batch waits until its events fit). */
  const paceEvents = async (events: number): Promise<void> => {
    const eps = throttle().maxEps;
    if (eps === 0 || events === 0) return;
    if (eventLimit?.rate !== eps) eventLimit = new RateLimiter(eps);
    const wait = eventLimit.take(events);
    if (wait > 0) await sleep(wait);
  };

  const sender = new OutboxSender({
    state,
    endpoint,
    log,
    beforeEachBatch: reportPackages,
    paceBatch: paceEvents,
    resync: () => void scheduledScan(),
    stateLost,
    drained: (batches) => releaseAfterDelivery(batches, state),
  });

  let managerTakesFootprint = false;
  const keepalive = async (): Promise<void> => {
    // For `custos status` and the manager's /metrics: what this process holds now, and how its scans are throttled.
    const footprint = measureFootprint(throttle());
    state.setMeta(FOOTPRINT_META_KEY, JSON.stringify(footprint));
    try {
      const generation = state.generation;
      // An older manager ignores a keep-alive body with fields it does not know (and with it `seq`): the footprint
      // goes only to a manager whose last answer said it takes it (kept in memory: a failover may reach an older one).
      const report = managerTakesFootprint ? { footprint: footprintReport(footprint) } : {};
      const reply = await callManager(endpoint, 'POST', '/v1/keepalive', { seq: state.highestSeq(), pending: state.outboxSize(), ...report }, 10_000);
      const body = KeepaliveResponse.safeParse(reply.body);
      if (reply.status === 200 && body.success && body.data.continuity === true && state.getMeta('manager_continuity') === undefined)
        state.setMeta('manager_continuity', '1');
      if (reply.status === 200 && body.success && body.data.contentDiffs === true && state.getMeta('manager_content_diffs') === undefined)
        state.setMeta('manager_content_diffs', '1');
      if (reply.status === 200 && body.success && body.data.inodeAttributes === true && state.getMeta('manager_inode_attributes') === undefined) {
        state.setMeta('manager_inode_attributes', '1');
      }
      managerTakesFootprint = reply.status === 200 && body.success && body.data.footprint === true;
      if (reply.status === 200 && body.success && body.data.stateLost === true) stateLost(body.data.ack, generation, 'a keep-alive');
      await reportPackages();
      if (await central.poll()) {
        await restartWatcher();
        void scheduledScan();
      }
    } catch (error) {
      log.debug({ reason: (error as Error).message }, 'keepalive failed');
    }
    // An idle agent never collects: what the last realtime changes, report or delivery left behind is given back here.
    if (!closed && scans.pending === 0 && state.outboxSize() === 0) {
      if (realtimeActivity.quietFor(options.keepaliveMs)) {
        realtimeActivity.released();
        const { rssBeforeBytes, rssAfterBytes } = await releaseScanMemory({ pool, state });
        log.info({ rssBeforeMb: Math.round(rssBeforeBytes / 2 ** 20), rssAfterMb: Math.round(rssAfterBytes / 2 ** 20) }, 'realtime memory released');
      } else releaseHeapIfGrown();
    }
  };

  const scheduler = new ScanScheduler({
    lastScanEnd: () => {
      const last = state.getMeta('last_scan_end');
      return last === undefined ? undefined : Number(last);
    },
    syscheck: () => central.current,
    scan: scheduledScan,
  });

  await central.poll();
  const nice = throttle().processPriority;
  // Each scan thread sets its own nice value; below the service's it needs CAP_SYS_NICE (root has it).
  if (nice < getPriority(0) && process.getuid?.() !== 0)
    log.warn(
      { processPriority: nice, serviceNice: getPriority(0) },
      "process_priority is below the nice value the agent was started with and it may not raise its priority: scans run at the service's",
    );
  await restartWatcher();
  sender.start();
  timers.push(setInterval(() => void keepalive(), options.keepaliveMs));
  // The first keep-alive before the first scan: it tells whether this agent's state is behind the manager's, and
  // what the manager understands, before anything is queued.
  const startGeneration = state.generation;
  await keepalive();
  // A state found behind has its full scan queued already.
  const resyncing = state.generation !== startGeneration;
  if (!resyncing && (central.current.scanOnStart || state.cacheEmpty())) scheduler.startWithScan();
  else scheduler.scheduleNext();
  log.info({ manager: endpoint.url, alternates: endpoint.alternates ?? [], name: identity.name }, 'agent started');

  return {
    scanNow: scheduledScan,
    close: async () => {
      closed = true;
      scheduler.close();
      for (const t of timers) clearTimeout(t);
      await watcher?.close();
      await scans.idle();
      await sender.close();
      await pool.close();
      state.close();
    },
  };
}
