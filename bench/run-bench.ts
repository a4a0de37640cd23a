/**
 * `npm run bench`: Custos measured side by side with what users would run instead, in the same run, as medians,
 * with ratios. Builds its own corpora. Never fails on a time: it reports.
 *
 *   npm run bench                      full run (copies /usr, 200,000-file synthetic tree, 1M and 10M known hashes)
 *   npm run bench -- --quick           a small version of everything, under a minute (what CI runs)
 *   npm run bench -- --hashdb-100m     also 100 million known hashes (needs ~6 GB of disk and ~25 minutes)
 *   npm run bench -- --million         also the agent's peak memory scanning 1 million files
 *   npm run bench -- --json out.json   write the results; --compare old.json prints the change against them
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FootprintFigures } from './agent-footprint.js';
import { consoleBenchRows, type ConsoleBenchResult } from './console-bench-rows.js';
import type { HashdbFigure } from './hashdb-bench.js';
import type { EnginePairs } from './hashdb-engines.js';
import { launcherNodeFlags } from './launcher-flags.js';
import { buildLinkTree } from './link-tree.js';

/** One measured figure, with the reference it is compared to when there is one. */
interface Row {
  readonly section: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  readonly note?: string;
}

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const quick = flag('--quick');
const runs = Number(option('--runs') ?? (quick ? 1 : 3));
const cores = availableParallelism();
const repo = fileURLToPath(new URL('../../', import.meta.url));
// Executed as users run it (the npm bin link, the systemd units): through its shebang, with its V8 flags.
const custosBin = join(repo, 'bin/custos.js');
const floorScript = join(repo, 'dist/bench/floor-scan.js');
const work = join(option('--dir') ?? tmpdir(), 'custos-bench');
const rows: Row[] = [];

interface Timed {
  readonly wall: number;
  readonly cpu: number;
  readonly rssMb: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

/** Runs a command under /usr/bin/time for CPU seconds and peak RSS; wall time from our own clock (ms, not 10 ms). */
function timed(command: string, argv: readonly string[], env: NodeJS.ProcessEnv = {}): Timed {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '@@TIME %U %S %M', command, ...argv], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const line = (r.stderr ?? '').split('\n').find((l) => l.startsWith('@@TIME')) ?? '@@TIME 0 0 0';
  const [, user = '0', sys = '0', rss = '0'] = line.split(' ');
  return { wall, cpu: Number(user) + Number(sys), rssMb: Number(rss) / 1024, stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}

/**
 * `custos check` timed, failing the bench when the check failed: a check that stops at once (a refused store, a
 * bad configuration) would otherwise be timed as a scan of the whole tree. 0 and 1 (alerts) are what a check that
 * ran exits with.
 */
function timedCheck(config: string, db: string): Timed {
  const t = timed(custosBin, ['check', '--config', config, '--db', db]);
  if (t.status !== 0 && t.status !== 1) throw new Error(`custos check --db ${db} failed (exit ${String(t.status)}): ${t.stderr.slice(-2000)}`);
  return t;
}

/**
 * Removes a standalone store so that the next check is a first scan: the database, its WAL and shared memory, and
 * its history marker (`DB.head`), without which the check refuses an empty database as one that lost its past.
 */
function removeStore(db: string): void {
  for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.head`]) rmSync(f, { force: true });
}

/**
 * Runs one of the in-process benchmarks in its own process (so its peak memory is its own); returns its JSON.
 * `nodeFlags`: V8 flags for that process (see `launcherNodeFlags`).
 */
function child<T>(script: string, argv: readonly string[], nodeFlags: readonly string[] = []): T {
  const r = spawnSync(process.execPath, [...nodeFlags, join(repo, 'dist/bench', script), ...argv, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as T;
}

function medianTimed(times: readonly Timed[]): Timed {
  const byWall = [...times].sort((a, b) => a.wall - b.wall);
  return byWall[Math.floor((byWall.length - 1) / 2)] as Timed;
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Makes a tree of small files (100 per directory) plus a few large ones, with incompressible content. */
function syntheticTree(dir: string, small: number, large: readonly number[]): void {
  if (existsSync(join(dir, '.complete'))) return;
  rmSync(dir, { recursive: true, force: true });
  const block = randomBytes(1 << 20);
  for (let i = 0; i < small; i++) {
    const sub = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    const size = 200 + ((i * 7919) % 8000);
    writeFileSync(join(sub, `f${i}.dat`), block.subarray(i % 1000, (i % 1000) + size));
  }
  large.forEach((mb, i) => {
    const file = join(dir, `large-${i}.bin`);
    for (let m = 0; m < mb; m++) appendFileSync(file, block);
  });
  writeFileSync(join(dir, '.complete'), '');
}

function copyTree(from: string, to: string): void {
  if (existsSync(join(to, '.complete'))) return;
  rmSync(to, { recursive: true, force: true });
  execFileSync('cp', ['-a', from, to]);
  writeFileSync(join(to, '.complete'), '');
}

/** Counts the files and bytes the scans read. */
function treeSize(dir: string): { files: number; bytes: number } {
  const out = execFileSync('sh', ['-c', `find "$1" -type f -printf '%s\\n'`, 'sh', dir], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const sizes = out.split('\n').filter((l) => l !== '');
  return { files: sizes.length, bytes: sizes.reduce((a, b) => a + Number(b), 0) };
}

function aideConfig(dir: string, tree: string): string {
  const conf = join(dir, 'aide.conf');
  writeFileSync(
    conf,
    [
      `database_in=file:${join(dir, 'aide.db')}`,
      `database_out=file:${join(dir, 'aide.db.new')}`,
      'gzip_dbout=no',
      'report_url=stdout',
      // The same attributes Custos keeps: permissions, inode, links, owner, group, size, mtime, ctime, three digests.
      'Custos = p+i+n+u+g+s+m+c+md5+sha1+sha256',
      `${tree} Custos`,
      '',
    ].join('\n'),
  );
  return conf;
}

/** The scan sections on one corpus: first scan, unchanged re-check, 1% changed, each against its references. */
function scanSection(name: string, tree: string, withAide: boolean): void {
  const dir = join(work, `scan-${name.replace(/[^A-Za-z0-9]+/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'custos.yml');
  writeFileSync(config, `syscheck:\n  ignore: []\n  directories:\n    - path: ${tree}\n`);
  const db = join(dir, 'custos.db');
  const { files, bytes } = treeSize(tree);
  execFileSync('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 cat > /dev/null', 'sh', tree]); // warm cache
  const section = `scan ${name} (${files.toLocaleString('en')} files, ${(bytes / 1e9).toFixed(2)} GB)`;
  const custos = (): Timed => timedCheck(config, db);
  const firsts = Array.from({ length: runs }, () => {
    removeStore(db);
    return custos();
  });
  const first = medianTimed(firsts);
  const floor = medianTimed(Array.from({ length: runs }, () => timed(process.execPath, [floorScript, tree])));
  const sha = medianTimed(
    Array.from({ length: runs }, () => timed('sh', ['-c', `find "$1" -type f -print0 | xargs -0 -P${cores} sha256sum > /dev/null`, 'sh', tree])),
  );
  const add = (metric: string, value: number, unit: string, reference?: { name: string; value: number }, note?: string): void => {
    rows.push({ section, metric, value, unit, ...(reference === undefined ? {} : { reference }), ...(note === undefined ? {} : { note }) });
  };
  add('first scan, md5+sha1+sha256, all attributes (wall)', first.wall, 's', { name: FLOOR, value: floor.wall }, `load ${loadAverage()}`);
  add('first scan (wall)', first.wall, 's', { name: `find | xargs -P${cores} sha256sum`, value: sha.wall });
  let aideInit: Timed | undefined;
  let aideConf = '';
  if (withAide) {
    aideConf = aideConfig(dir, tree);
    aideInit = medianTimed(Array.from({ length: runs }, () => timed('aide', ['--init', `--config=${aideConf}`, `--workers=${cores}`])));
    execFileSync('mv', [join(dir, 'aide.db.new'), join(dir, 'aide.db')]);
    add('first scan (wall)', first.wall, 's', { name: `aide --init --workers=${cores}, same attributes`, value: aideInit.wall });
  }
  add('first scan throughput', files / first.wall, 'files/s');
  add('first scan throughput', bytes / 1e6 / first.wall, 'MB/s');
  add('first scan CPU', first.cpu, 's', { name: 'minimal script CPU', value: floor.cpu });
  add('first scan peak memory (RSS)', first.rssMb, 'MB');
  const unchanged = medianTimed(Array.from({ length: runs }, custos));
  const walk = medianTimed(
    Array.from({ length: runs }, () => timed('sh', ['-c', `find "$1" -printf '%i %s %T@ %C@ %m %U %G %n %p\\n' > /dev/null`, 'sh', tree])),
  );
  add('unchanged re-check (wall)', unchanged.wall, 's', { name: 'stat-only walk (find -printf)', value: walk.wall });
  if (withAide) {
    const check = medianTimed(Array.from({ length: runs }, () => timed('aide', ['--check', `--config=${aideConf}`, `--workers=${cores}`])));
    add('unchanged re-check (wall)', unchanged.wall, 's', { name: `aide --check --workers=${cores}`, value: check.wall });
  }
  add('unchanged re-check peak memory (RSS)', unchanged.rssMb, 'MB');
  const list = execFileSync('sh', ['-c', 'find "$1" -type f -name "*.dat" -o -type f -name "*.so*" -o -type f -perm -u+x', 'sh', tree], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  })
    .split('\n')
    .filter((l) => l !== '');
  const changed: Timed[] = [];
  const aideChanged: Timed[] = [];
  for (let r = 0; r < runs; r++) {
    const step = Math.max(1, Math.floor(list.length / Math.max(1, Math.floor(files / 100))));
    for (let i = r; i < list.length; i += step) appendFileSync(list[i] as string, 'x');
    changed.push(custos());
    if (withAide) aideChanged.push(timed('aide', ['--check', `--config=${aideConf}`, `--workers=${cores}`]));
  }
  add('1% of files changed (wall)', medianTimed(changed).wall, 's', { name: 'stat-only walk (find -printf)', value: walk.wall });
  if (withAide)
    add('1% of files changed (wall)', medianTimed(changed).wall, 's', { name: `aide --check --workers=${cores}`, value: medianTimed(aideChanged).wall });
}

/** Peak memory of a first scan of one million small files. */
function millionSection(): void {
  const tree = join(work, 'million');
  if (!existsSync(join(tree, '.complete'))) {
    rmSync(tree, { recursive: true, force: true });
    for (let d = 0; d < 1000; d++) {
      const sub = join(tree, `d${d}`);
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 1000; f++) writeFileSync(join(sub, `f${f}`), `${d}/${f}\n`);
    }
    writeFileSync(join(tree, '.complete'), '');
  }
  const dir = join(work, 'scan-million');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'custos.yml'), `syscheck:\n  ignore: []\n  directories:\n    - path: ${tree}\n`);
  const db = join(dir, 'custos.db');
  const fresh = (): void => removeStore(db);
  fresh();
  const first = timedCheck(join(dir, 'custos.yml'), db);
  const again = timedCheck(join(dir, 'custos.yml'), db);
  // Again from nothing with every file in the page cache: the hash workers are never held up by the disk, so
  // results arrive as fast as they can, and whatever waits on the main thread peaks.
  fresh();
  execFileSync('sh', ['-c', 'find "$1" -type f -print0 | xargs -0 cat > /dev/null', 'sh', tree]);
  const warm = timedCheck(join(dir, 'custos.yml'), db);
  rows.push({ section: 'scan 1,000,000 files', metric: 'first scan peak memory (RSS)', value: first.rssMb, unit: 'MB', note: `${first.wall.toFixed(1)} s` });
  rows.push({
    section: 'scan 1,000,000 files',
    metric: 'first scan, warm page cache, peak memory (RSS)',
    value: warm.rssMb,
    unit: 'MB',
    note: `${warm.wall.toFixed(1)} s`,
  });
  rows.push({
    section: 'scan 1,000,000 files',
    metric: 'unchanged re-check peak memory (RSS)',
    value: again.rssMb,
    unit: 'MB',
    note: `${again.wall.toFixed(1)} s`,
  });
}

/**
 * An idle agent after its first scan (realtime on) next to a bare Node process, and a scan held to 25% of the
 * machine's CPU next to an unthrottled one (see agent-footprint.ts); then an idle agent watching a tree of 1,000,000
 * hard-linked files (built in a temp dir, removed after). Quick: a copy of /usr/bin, and 20,000 files.
 */
function footprintSection(): void {
  const tree = join(work, quick ? 'usr-bin' : 'usr');
  copyTree(quick ? '/usr/bin' : '/usr', tree);
  // Quick: idle over one keep-alive (5 s apart in agent-footprint.ts) rather than two, and one realtime change.
  const idle = quick ? ['--idle-seconds', '6'] : [];
  const free = child<FootprintFigures>('agent-footprint.js', ['--tree', tree, '--realtime-change', ...idle]);
  const limited = child<FootprintFigures>('agent-footprint.js', ['--tree', tree, '--cpu-share', '25', '--idle-seconds', '1']);
  const section = `agent footprint, realtime on ${quick ? 'a copy of /usr/bin' : 'a copy of /usr'} (${free.files.toLocaleString('en')} entries)`;
  rows.push({
    section,
    metric: 'idle agent after its first scan (RSS)',
    value: free.idleRssMb,
    unit: 'MB',
    reference: { name: 'bare Node process', value: free.bareNodeRssMb },
    note: `${free.releasedFromMb ?? '?'} MB before the scan's memory was given back`,
  });
  rows.push(...idleSplitRows(section, free));
  rows.push(underTarget(section, 'issue 18: idle agent under 60 MB (RSS)', free.idleRssMb, 60, quick ? 'the target is for a copy of /usr' : undefined));
  rows.push(...realtimeChangeRows(section, free, 60));
  // The agent's own floor: the same agent idle after a scan of five files. What it holds is its code (the node
  // binary's pages TLS, SQLite and the watcher run, V8's compiled code), not what a scan left; the difference is.
  const small = join(work, 'five-files');
  mkdirSync(small, { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(small, `f${i}`), `${i}\n`);
  const floor = child<FootprintFigures>('agent-footprint.js', ['--tree', small, ...idle]);
  rows.push({
    section,
    metric: 'idle agent after a scan of 5 files: its floor (RSS)',
    value: floor.idleRssMb,
    unit: 'MB',
    reference: { name: 'bare Node process', value: floor.bareNodeRssMb },
    note: `anonymous ${floor.idleAnonMb.toFixed(1)} MB, file-backed ${floor.idleFileMb.toFixed(1)} MB`,
  });
  rows.push({
    section,
    metric: 'idle agent after its first scan, above its floor (RSS)',
    value: free.idleRssMb - floor.idleRssMb,
    unit: 'MB',
    note: 'what the scan and the realtime watcher of the tree keep',
  });
  rows.push({
    section,
    metric: 'idle agent threads',
    value: free.idleThreads,
    unit: 'threads',
    reference: { name: 'bare Node process', value: free.bareNodeThreads },
  });
  rows.push({ section, metric: 'first scan peak memory (RSS)', value: free.peakRssMb, unit: 'MB' });
  rows.push({
    section,
    metric: 'first scan, unthrottled: CPU share of the machine',
    value: free.scanCpuSharePercent,
    unit: '%',
    note: `${free.scanSeconds.toFixed(1)} s`,
  });
  rows.push({
    section,
    metric: 'first scan held to 25% CPU: CPU share of the machine',
    value: limited.scanCpuSharePercent,
    unit: '%',
    note: `${limited.scanCpuSharePercent <= 32.5 ? 'met' : 'missed'}: ${limited.scanSeconds.toFixed(1)} s; target at most 32.5% (25% + 30%); load ${loadAverage()}`,
  });
  // A limit above what the unthrottled scan used (a busy machine, or a scan waiting on I/O) never binds, and its
  // figure says nothing about the limiter's accuracy: then also a limit at half of what the scan used.
  if (free.scanCpuSharePercent < 25 * 1.3) {
    const share = Math.max(1, Math.floor(free.scanCpuSharePercent / 2));
    const binding = child<FootprintFigures>('agent-footprint.js', ['--tree', tree, '--cpu-share', String(share), '--idle-seconds', '1']);
    rows.push({
      section,
      metric: `first scan held to ${share}% CPU (25% did not bind here): CPU share of the machine`,
      value: binding.scanCpuSharePercent,
      unit: '%',
      note: `${binding.scanCpuSharePercent <= share * 1.3 ? 'met' : 'missed'}: ${binding.scanSeconds.toFixed(1)} s; target at most ${(share * 1.3).toFixed(1)}%; load ${loadAverage()}`,
    });
  }
  // The idle agent watching a tree of a million entries (quick: 20,000), built from hard links and removed after.
  const files = quick ? 20_000 : 1_000_000;
  const many = mkdtempSync(join(work, 'link-tree-'));
  try {
    buildLinkTree(many, files);
    const big = child<FootprintFigures>('agent-footprint.js', ['--tree', many, ...(quick ? idle : ['--realtime-change'])]);
    const bigSection = `agent footprint, realtime on ${files.toLocaleString('en')} files (hard links)`;
    rows.push({
      section: bigSection,
      metric: 'idle agent after its first scan (RSS)',
      value: big.idleRssMb,
      unit: 'MB',
      reference: { name: 'bare Node process', value: big.bareNodeRssMb },
      note: `${big.releasedFromMb ?? '?'} MB before the scan's memory was given back; ${big.scanSeconds.toFixed(1)} s scan`,
    });
    rows.push(...idleSplitRows(bigSection, big));
    rows.push(underTarget(bigSection, 'issue 18: idle agent under 100 MB (RSS)', big.idleRssMb, 100, quick ? 'the target is for 1,000,000 files' : undefined));
    rows.push(...realtimeChangeRows(bigSection, big, 100));
    rows.push({
      section: bigSection,
      metric: 'idle agent threads',
      value: big.idleThreads,
      unit: 'threads',
      reference: { name: 'bare Node process', value: big.bareNodeThreads },
    });
    rows.push({ section: bigSection, metric: 'first scan peak memory (RSS)', value: big.peakRssMb, unit: 'MB' });
  } finally {
    rmSync(many, { recursive: true, force: true });
  }
}

/**
 * The idle agent's RSS in its two parts, each next to a bare Node process's: anonymous memory (heaps, arenas,
 * buffers: what the agent itself holds) and file-backed pages (the node binary and libraries it ran code from:
 * shared with every other process that maps them, and reclaimed by the kernel first under memory pressure).
 */
function idleSplitRows(section: string, f: FootprintFigures): Row[] {
  return [
    {
      section,
      metric: 'idle agent: anonymous memory (RssAnon)',
      value: f.idleAnonMb,
      unit: 'MB',
      reference: { name: 'bare Node process', value: f.bareNodeAnonMb },
    },
    {
      section,
      metric: 'idle agent: file-backed pages (RssFile)',
      value: f.idleFileMb,
      unit: 'MB',
      reference: { name: 'bare Node process', value: f.bareNodeFileMb },
    },
  ];
}

/**
 * The agent while it handles two realtime changes after idling (a hashing thread started again, the code of a scan
 * and a delivery run), how long the first and the second took to be delivered, and idle again once realtime was quiet for a keep-alive and it gave that back, against the
 * idle target: the target holds between changes too, not only after the first scan.
 */
function realtimeChangeRows(section: string, f: FootprintFigures, bound: number): Row[] {
  if (f.changeRssMb === undefined || f.quietRssMb === undefined) return [];
  return [
    {
      section,
      metric: 'agent handling a realtime change after idling (RSS)',
      value: f.changeRssMb,
      unit: 'MB',
      note: `highest until delivered and 2 s after; ${f.changeThreads ?? '?'} threads`,
    },
    ...(f.changeDeliveredMs === undefined
      ? []
      : [
          {
            section,
            metric: 'realtime change after idling: written to delivered',
            value: f.changeDeliveredMs,
            unit: 'ms',
            ...(f.warmChangeDeliveredMs === undefined ? {} : { reference: { name: 'a second change right after it', value: f.warmChangeDeliveredMs } }),
            note: "scanned, sent and acknowledged by the manager; includes the watcher's debounce",
          },
        ]),
    {
      section,
      metric: 'idle again once realtime was quiet for a keep-alive (RSS)',
      value: f.quietRssMb,
      unit: 'MB',
      note: `${f.quietRssMb < bound ? 'under' : 'over'} the ${bound} MB idle target; anonymous ${(f.quietAnonMb ?? NaN).toFixed(1)} MB, file-backed ${(f.quietFileMb ?? NaN).toFixed(1)} MB; ${f.quietThreads ?? '?'} threads`,
    },
  ];
}

/** A figure against an upper bound (MB): met or missed, and where the figure is not from the target's own corpus. */
function underTarget(section: string, metric: string, value: number, bound: number, caveat?: string): Row {
  return { section, metric, value, unit: 'MB', note: `${value < bound ? 'met' : 'missed'}: at most ${bound} MB${caveat === undefined ? '' : `; ${caveat}`}` };
}

/** One target of issue 17: a ratio of a Custos figure to a reference in the same run, and its bound. */
interface Target {
  readonly name: string;
  readonly section: string;
  readonly metric: string;
  readonly reference: string;
  /** `max`: the ratio (Custos / reference) must be at most `bound`; `min`: the reference must be `bound` times Custos at least. */
  readonly kind: 'max' | 'min';
  readonly bound: number;
}

const FLOOR = 'minimal walk+lstat+3 digests, 1 worker/core';
const STAT_WALK = 'stat-only walk (find -printf)';

/** Issue 17's scan targets, each against the reference the same run measured. */
function scanTargets(): readonly Target[] {
  const out: Target[] = [];
  for (const [corpus, floorBound] of [
    ['scan synthetic', 1.5],
    ['scan copy of /usr', 1.15],
  ] as const) {
    out.push({
      name: `${corpus}: first scan within ${floorBound}x of the floor`,
      section: corpus,
      metric: 'first scan, md5+sha1+sha256, all attributes (wall)',
      reference: FLOOR,
      kind: 'max',
      bound: floorBound,
    });
    out.push({
      name: `${corpus}: first scan at least 3x faster than aide --init`,
      section: corpus,
      metric: 'first scan (wall)',
      reference: 'aide --init',
      kind: 'min',
      bound: 3,
    });
    out.push({
      name: `${corpus}: unchanged re-check within 3x of the stat walk`,
      section: corpus,
      metric: 'unchanged re-check (wall)',
      reference: STAT_WALK,
      kind: 'max',
      bound: 3,
    });
    out.push({
      name: `${corpus}: unchanged re-check at least 50x faster than aide --check`,
      section: corpus,
      metric: 'unchanged re-check (wall)',
      reference: 'aide --check',
      kind: 'min',
      bound: 50,
    });
  }
  return out;
}

/** Adds a row per target the run measured: the ratio, and whether it is met. */
function targetRows(): void {
  const section = `issue 17 targets (load ${loadAverage()} now)`;
  for (const t of scanTargets()) {
    const row = rows.find((r) => r.section.startsWith(`${t.section} (`) && r.metric === t.metric && r.reference?.name.startsWith(t.reference) === true);
    if (row?.reference === undefined) continue;
    const ratio = t.kind === 'max' ? row.value / row.reference.value : row.reference.value / row.value;
    const met = t.kind === 'max' ? ratio <= t.bound : ratio >= t.bound;
    rows.push({
      section,
      metric: t.name,
      value: ratio,
      unit: 'x',
      note: `${met ? 'met' : 'missed'}: Custos ${row.value.toFixed(2)} s, ${row.reference.name} ${row.reference.value.toFixed(2)} s, ${t.kind === 'max' ? 'at most' : 'at least'} ${t.bound}x`,
    });
  }
  for (const metric of ['first scan peak memory (RSS)', 'first scan, warm page cache, peak memory (RSS)']) {
    const row = rows.find((r) => r.section === 'scan 1,000,000 files' && r.metric === metric);
    if (row === undefined) continue;
    rows.push({ section, metric: `1M files: ${metric} under 150 MB`, value: row.value, unit: 'MB', note: row.value < 150 ? 'met' : 'missed' });
  }
}

/** The 1-minute load average, for figures that depend on what else the machine runs. */
function loadAverage(): string {
  return loadavg()[0]?.toFixed(2) ?? '?';
}

/** Issue 17's ingest target: events a second into SQLite, and at most this many times the write floor's time. */
const INGEST_TARGET = 25_000;
const INGEST_FLOOR_RATIO = 1.3;

type IngestRun = { eventsPerSecond: number; cpuEventsPerSecond: number; p99BatchMs: number; startRssMb: number; rssMb: number };

/**
 * The manager's ingest (bench/ingest-bench.ts): the SQLite write floor with and without the history record (what
 * the record costs to store), then the pipeline for 1 agent, for 1,000 agents with group commit and without it
 * (one COMMIT per batch, the reference), and metadata-only changes, each the median of `runs` runs, interleaved so
 * that every figure and its reference share the machine's load; then the same on PostgreSQL when it answers.
 */
function ingestSection(events: number): void {
  const median = <T>(all: readonly T[], by: (t: T) => number): T => {
    const sorted = [...all].sort((a, b) => by(a) - by(b));
    const m = sorted[Math.floor((sorted.length - 1) / 2)];
    if (m === undefined) throw new Error('no ingest run');
    return m;
  };
  const configs = {
    floor: ['--floor'],
    floorNoHistory: ['--floor', '--no-history'],
    one: ['--agents', '1'],
    fleet: ['--agents', '1000'],
    fleetNoGroup: ['--agents', '1000', '--no-group'],
    metadata: ['--agents', '1', '--metadata-only'],
  } as const;
  const results = new Map<keyof typeof configs, { value: Record<string, number>; load: number }[]>();
  for (let r = 0; r < runs; r++) {
    for (const [name, argv] of Object.entries(configs) as [keyof typeof configs, readonly string[]][]) {
      // With the launcher's heap flags, as the manager runs (a 4 MB young generation collects more often).
      const value = child<Record<string, number>>('ingest-bench.js', ['--events', String(events), ...argv], launcherNodeFlags(custosBin));
      results.set(name, [...(results.get(name) ?? []), { value, load: loadavg()[0] ?? 0 }]);
    }
  }
  const loads = [...results.values()].flat().map((r) => r.load);
  const loadNote = `load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`;
  const floor = median(results.get('floor') ?? [], (r) => r.value.rowsPerSecond ?? 0).value;
  const floorNoHistory = median(results.get('floorNoHistory') ?? [], (r) => r.value.rowsPerSecond ?? 0).value;
  const floorRate = floor.rowsPerSecond ?? 0;
  const section = `ingest into SQLite (${events.toLocaleString('en')} events, medians of ${runs}, ${loadNote})`;
  rows.push({
    section,
    metric: 'write floor: the same rows, nothing computed',
    value: floorRate,
    unit: 'events/s',
    reference: { name: 'the floor without the history record', value: floorNoHistory.rowsPerSecond ?? 0 },
    note: `the history record (${floor.recordBytes ?? 0} bytes of text and hashes) costs ${(1e6 / floorRate - 1e6 / Math.max(floorNoHistory.rowsPerSecond ?? 1, 1)).toFixed(1)} µs an event to store; per CPU second ${Math.round(floor.cpuRowsPerSecond ?? 0)} and ${Math.round(floorNoHistory.cpuRowsPerSecond ?? 0)} events`,
  });
  const pipeline = (name: keyof typeof configs, metric: string, reference?: Row['reference']): IngestRun => {
    const r = median(results.get(name) ?? [], (x) => x.value.eventsPerSecond ?? 0).value as unknown as IngestRun;
    const floorRatio = floorRate / Math.max(r.eventsPerSecond, 1e-9);
    rows.push({
      section,
      metric,
      value: r.eventsPerSecond,
      unit: 'events/s',
      reference: reference ?? { name: `target ${INGEST_TARGET.toLocaleString('en')}`, value: INGEST_TARGET },
      note: `${floorRatio.toFixed(2)}x the floor's time (target at most ${INGEST_FLOOR_RATIO}); ${Math.round(r.cpuEventsPerSecond)} events per CPU second, ${((floor.cpuRowsPerSecond ?? 0) / Math.max(r.cpuEventsPerSecond, 1e-9)).toFixed(2)}x the floor's CPU; p99 batch ${r.p99BatchMs.toFixed(0)} ms; RSS ${r.startRssMb.toFixed(0)} -> ${r.rssMb.toFixed(0)} MB`,
    });
    return r;
  };
  pipeline('one', '1 agent, batches of 500: compare, rules, record, alert');
  const fleet = pipeline('fleet', '1,000 agents, a batch of 60 each, group commit');
  pipeline('fleetNoGroup', '1,000 agents, one COMMIT per batch (reference for group commit)');
  rows.push({
    section,
    metric: '1,000 agents: group commit against one COMMIT per batch',
    value: fleet.eventsPerSecond,
    unit: 'events/s',
    reference: {
      name: 'one COMMIT per batch',
      value: median(results.get('fleetNoGroup') ?? [], (x) => x.value.eventsPerSecond ?? 0).value.eventsPerSecond ?? 0,
    },
  });
  pipeline('metadata', '1 agent, metadata-only changes (digests kept)');
  // PostgreSQL, when the machine's answers (its own schema, dropped after): fewer events, it is slower.
  const url = process.env.CUSTOS_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
  const pgEvents = Math.max(2_000, Math.floor(events / 6));
  for (const agents of [1, 1000]) {
    const all: IngestRun[] = [];
    for (let r = 0; r < runs; r++) {
      try {
        all.push(
          child<IngestRun>('ingest-bench.js', ['--events', String(pgEvents), '--agents', String(agents), '--postgres', url], launcherNodeFlags(custosBin)),
        );
      } catch (error) {
        console.error(`PostgreSQL ingest not measured: ${(error as Error).message.split('\n')[0] ?? ''}`);
        return;
      }
    }
    const r = median(all, (x) => x.eventsPerSecond);
    rows.push({
      section: `ingest into PostgreSQL (${pgEvents.toLocaleString('en')} events, medians of ${runs}, load ${loadAverage()})`,
      metric: `${agents === 1 ? '1 agent' : '1,000 agents'}: compare, rules, record, alert`,
      value: r.eventsPerSecond,
      unit: 'events/s',
      reference: { name: 'SQLite floor (above)', value: floorRate },
      note: `p99 batch ${r.p99BatchMs.toFixed(0)} ms`,
    });
  }
}

function main(): void {
  mkdirSync(work, { recursive: true });
  const only = option('--only');
  const want = (s: string): boolean => only === undefined || only.split(',').includes(s);
  let aide = hasCommand('aide');
  // AIDE is only the scan sections' reference: `--only diff` (or any run without them) installs nothing.
  if (!aide && !quick && !flag('--skip-aide') && want('scan')) {
    process.stderr.write('bench: installing AIDE from Debian for the comparison\n');
    aide =
      spawnSync('sh', ['-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq aide >/dev/null 2>&1'], { stdio: 'inherit' }).status === 0 &&
      hasCommand('aide');
  }
  if (!aide && want('scan'))
    rows.push({
      section: 'scan',
      metric: 'AIDE comparison',
      value: 0,
      unit: '',
      note: quick ? 'skipped: aide not installed (a full run installs it)' : 'skipped: aide could not be installed',
    });
  if (want('scan')) {
    const startup = medianTimed(Array.from({ length: 3 }, () => timed(custosBin, ['--version'])));
    rows.push({ section: 'process', metric: 'custos start-up (custos --version)', value: startup.wall, unit: 's', note: 'included in every scan time below' });
    const synthetic = join(work, quick ? 'synthetic-quick' : 'synthetic');
    syntheticTree(synthetic, quick ? 3000 : 200_000, quick ? [16] : [200, 200, 100]);
    scanSection(quick ? 'synthetic (quick)' : 'synthetic', synthetic, aide);
    const usr = join(work, quick ? 'usr-bin' : 'usr');
    copyTree(quick ? '/usr/bin' : '/usr', usr);
    scanSection(quick ? 'copy of /usr/bin' : 'copy of /usr', usr, aide);
    saveResults();
  }
  if (want('diff')) {
    // report_changes: the same N changed ~10 KB text files checked with and without it (bench/report-changes-bench.ts).
    const n = quick ? 300 : 10_000;
    const r = child<{ off: Record<string, number>; on: Record<string, number> }>('report-changes-bench.js', [
      '--files',
      String(n),
      '--runs',
      String(runs),
      '--dir',
      work,
    ]);
    const section = `report_changes, standalone: ${n.toLocaleString('en')} changed text files of ~${((r.on.textBytesPerFile ?? 0) / 1000).toFixed(1)} KB`;
    rows.push({
      section,
      metric: 'check finding every file changed (wall)',
      value: r.on.changedS ?? 0,
      unit: 's',
      reference: { name: 'same check, report_changes off', value: r.off.changedS ?? 0 },
      note: `${r.on.alertsWithDiff ?? 0} alerts with a diff`,
    });
    rows.push({
      section,
      metric: 'first check, content recorded (wall)',
      value: r.on.firstS ?? 0,
      unit: 's',
      reference: { name: 'same check, report_changes off', value: r.off.firstS ?? 0 },
    });
    rows.push({
      section,
      metric: 'content database per file (brotli, after one change)',
      value: r.on.contentBytesPerFile ?? 0,
      unit: 'bytes',
      note: `${r.on.textBytesPerFile ?? 0} bytes of text per file`,
    });
    rows.push({
      section,
      metric: 'baseline database per file (with the diffs in the history)',
      value: r.on.baselineBytesPerFile ?? 0,
      unit: 'bytes',
      reference: { name: 'report_changes off', value: r.off.baselineBytesPerFile ?? 0 },
    });
    rows.push({
      section,
      metric: 'alerts.json per changed file',
      value: r.on.alertsJsonBytesPerFile ?? 0,
      unit: 'bytes',
      reference: { name: 'without the diff', value: r.off.alertsJsonBytesPerFile ?? 0 },
    });
    saveResults();
    // The same in a fleet: a real manager and agent; and a realtime change's way to the manager's alerts.json.
    const fleetFiles = quick ? 200 : 10_000;
    const f = child<{ changes: number; off: Record<string, number>; on: Record<string, number> }>('report-changes-fleet-bench.js', [
      '--files',
      String(fleetFiles),
      '--changes',
      quick ? '5' : '20',
      '--dir',
      work,
    ]);
    const fleet = `report_changes, fleet (manager + agent, one run): ${fleetFiles.toLocaleString('en')} changed text files`;
    rows.push({
      section: fleet,
      metric: 'agent scan finding every file changed, to acknowledged',
      value: f.on.changedS ?? 0,
      unit: 's',
      reference: { name: 'report_changes off', value: f.off.changedS ?? 0 },
      note: `${f.on.alertsWithDiff ?? 0} of ${f.on.changedAlerts ?? 0} alerts with a diff`,
    });
    rows.push({
      section: fleet,
      metric: 'agent scan finding them new (content recorded)',
      value: f.on.firstS ?? 0,
      unit: 's',
      reference: { name: 'report_changes off', value: f.off.firstS ?? 0 },
    });
    rows.push({ section: fleet, metric: "manager's content database per file", value: f.on.managerContentBytesPerFile ?? 0, unit: 'bytes' });
    rows.push({
      section: fleet,
      metric: `realtime change to its alert with diff (median of ${f.changes})`,
      value: f.on.realtimeMedianMs ?? 0,
      unit: 'ms',
      reference: { name: 'report_changes off (no diff)', value: f.off.realtimeMedianMs ?? 0 },
    });
    rows.push({
      section: fleet,
      metric: `realtime change to its alert with diff (highest of ${f.changes})`,
      value: f.on.realtimeMaxMs ?? 0,
      unit: 'ms',
      reference: { name: 'report_changes off (no diff)', value: f.off.realtimeMaxMs ?? 0 },
    });
    saveResults();
  }
  if (flag('--million')) {
    millionSection();
    saveResults();
  }
  if (want('ingest')) {
    ingestSection(quick ? 20_000 : 60_000);
    saveResults();
  }
  if (want('console')) {
    // The web console's queries at fleet size (bench/console-bench.ts); the store is built once and kept in the work dir.
    const size = quick ? ['--alerts', '50000', '--agents', '100', '--files', '20'] : ['--alerts', '1000000', '--agents', '1000', '--files', '100'];
    rows.push(...consoleBenchRows(child<ConsoleBenchResult>('console-bench.js', [...size, '--dir', work, '--runs', String(quick ? 3 : 5)])));
    saveResults();
  }
  if (want('hashdb')) {
    const sizes = quick ? [100_000] : [1_000_000, 10_000_000, ...(flag('--hashdb-100m') ? [100_000_000] : [])];
    for (const size of sizes) {
      const figures = child<HashdbFigure[]>('hashdb-bench.js', [
        '--rows',
        String(size),
        '--lookups',
        String(quick ? 20_000 : 200_000),
        '--db',
        join(work, `hashdb-${size}.sqlite`),
        ...(size === sizes[0] ? [] : ['--no-dpkg']),
        // Issue 17's targets are for 100M rows, "in two runs out of two".
        ...(size === 100_000_000 ? ['--runs', '2'] : []),
        ...(quick ? [] : ['--profile']),
      ]);
      for (const f of figures) rows.push({ section: `known-hash database, ${size.toLocaleString('en')} rows`, metric: f.name, value: f.value, unit: f.unit });
      saveResults();
      hashdbOnPostgres(size, size === sizes[0], quick, figures);
      hashdbEnginesPaired(size, join(work, `hashdb-${size}.sqlite`), quick);
    }
  }
  if (want('footprint')) {
    footprintSection();
    saveResults();
  }
  targetRows();
  if (want('rules')) {
    const r = child<{ eventsPerSecond: number; rules: number }>('rules-bench.js', ['--rules', '1000', '--events', String(quick ? 5000 : 20000)]);
    rows.push({ section: 'rules', metric: `events through ${r.rules} rules (built-in + 1,000 local)`, value: r.eventsPerSecond, unit: 'events/s' });
  }
  report();
}

/**
 * The known-hash database on PostgreSQL at the same size, each figure next to SQLite's from the same run (the ratio
 * is PostgreSQL / SQLite). Its tables stay in schema custos_bench_hashdb_SIZE for the next run, as the SQLite
 * file stays in the work directory. Skipped, with the reason, when PostgreSQL cannot be reached.
 */
function hashdbOnPostgres(size: number, dpkg: boolean, quick: boolean, sqlite: readonly HashdbFigure[]): void {
  const url = new URL(option('--postgres') ?? process.env.CUSTOS_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.searchParams.set('schema', `custos_bench_hashdb_${size}`);
  const section = `known-hash database on PostgreSQL, ${size.toLocaleString('en')} rows`;
  let figures: HashdbFigure[];
  try {
    figures = child<HashdbFigure[]>('hashdb-bench.js', [
      '--rows',
      String(size),
      '--lookups',
      String(quick ? 20_000 : 200_000),
      '--db',
      url.toString(),
      ...(dpkg ? [] : ['--no-dpkg']),
    ]);
  } catch (error) {
    const reason =
      (error as Error).message.split('\n').find((l) => /ECONNREFUSED|ENOTFOUND|password|does not exist|failed to open/.test(l)) ??
      (error as Error).message.split('\n')[0];
    process.stdout.write(`${section}: skipped (${reason ?? 'no reason given'})\n`);
    return;
  }
  for (const f of figures) {
    const ref = sqlite.find((r) => r.name === f.name);
    rows.push({
      section,
      metric: f.name,
      value: f.value,
      unit: f.unit,
      ...(ref === undefined || f.name.startsWith('reusing') ? {} : { reference: { name: 'SQLite, same run', value: ref.value } }),
    });
  }
  saveResults();
}

/** Issue 13: the known-hash verdict on PostgreSQL at least as fast as SQLite's, at each size the bench uses. */
const POSTGRES_VERDICT_RATIO = 1;

/**
 * Known-hash verdicts on PostgreSQL against SQLite in alternating rounds on the same digests (bench/hashdb-engines.ts),
 * after both databases hold the same rows: figures measured one engine after the other in separate processes
 * (above) differ as much from the machine's load as from the engines. The rows of each engine as a manager opens it
 * are met or missed against issue 13's "as fast as SQLite"; the same set-up on both is shown for comparison.
 */
function hashdbEnginesPaired(size: number, sqlite: string, quick: boolean): void {
  const url = new URL(option('--postgres') ?? process.env.CUSTOS_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.searchParams.set('schema', `custos_bench_hashdb_${size}`);
  let result: EnginePairs;
  try {
    result = child<EnginePairs>('hashdb-engines.js', ['--rows', String(size), '--sqlite', sqlite, '--postgres', url.toString(), '--rounds', quick ? '5' : '7']);
  } catch (error) {
    process.stdout.write(`known-hash verdicts, paired: skipped (${(error as Error).message.split('\n')[0] ?? ''})\n`);
    return;
  }
  const section = `known-hash verdicts, PostgreSQL against SQLite in alternating rounds, ${size.toLocaleString('en')} rows, batches of 500 (load ${result.load.min.toFixed(1)}-${result.load.max.toFixed(1)})`;
  for (const f of result.figures) {
    const ratio = f.postgres / Math.max(f.sqlite, 1e-9);
    rows.push({
      section,
      metric: f.name,
      value: f.postgres,
      unit: f.unit,
      reference: { name: 'SQLite, same rounds', value: f.sqlite },
      // Issue 13's target is the verdict a manager gives (each engine as a manager opens it); the same set-up on both
      // engines (SQLite with filters is opened that way by the bench only) is shown beside it, for what it says.
      note: f.name.includes('as each manager opens it')
        ? `issue 13 target (at least ${POSTGRES_VERDICT_RATIO}x): ${ratio >= POSTGRES_VERDICT_RATIO ? 'met' : 'missed'}`
        : `same set-up on both: PostgreSQL ${ratio >= 1 ? 'faster' : 'slower'}`,
    });
  }
  saveResults();
}

const machine = { cpus: cores, model: cpus()[0]?.model ?? '', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, quick, runs };
const resultsFile = option('--json') ?? join(repo, 'bench/results/latest.json');

/** Writes the rows measured so far: a long full run (the 100M-row section takes most of an hour) keeps its results if it is interrupted. */
function saveResults(): void {
  mkdirSync(join(resultsFile, '..'), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2)}\n`);
}

function report(): void {
  const old = option('--compare') === undefined ? undefined : (JSON.parse(readFileSync(option('--compare') as string, 'utf8')) as { rows: Row[] });
  const fmt = (v: number): string => (v >= 1000 ? Math.round(v).toLocaleString('en') : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  process.stdout.write(
    `\nCustos benchmark: ${machine.cpus} cores (${machine.model}), ${machine.memoryGb} GiB, Node ${machine.node}; medians of ${runs} run${runs === 1 ? '' : 's'}${quick ? ', --quick' : ''}\n`,
  );
  let section = '';
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      process.stdout.write(`\n${section}\n`);
    }
    const ref =
      row.reference === undefined
        ? ''
        : `   vs ${row.reference.name}: ${fmt(row.reference.value)} ${row.unit}  ratio ${(row.value / Math.max(row.reference.value, 1e-9)).toFixed(2)}`;
    const before = old?.rows.find((o) => o.section === row.section && o.metric === row.metric && o.reference?.name === row.reference?.name);
    const change =
      before === undefined || before.value === 0 ? '' : `   (was ${fmt(before.value)}, ${(((row.value - before.value) / before.value) * 100).toFixed(0)}%)`;
    process.stdout.write(
      `  ${row.metric.padEnd(58)} ${fmt(row.value).padStart(10)} ${row.unit.padEnd(9)}${ref}${change}${row.note === undefined ? '' : `   ${row.note}`}\n`,
    );
  }
  saveResults();
  process.stdout.write(`\nresults: ${resultsFile}\n`);
}

main();
