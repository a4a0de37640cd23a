/**
 * report_changes cost: N changed text files of ~10 KB, checked with report_changes on and off, in real `custos
 * check` runs, the two modes alternating, `--runs` times each. Prints one JSON line: per mode, the medians of the
 * wall time of the first (baseline) check and of the check that finds every file changed, and the bytes per file
 * of the baseline database, the content database and alerts.json.
 *
 *   node dist/bench/report-changes-bench.js [--files 10000] [--runs 3] [--dir DIR] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusText, writeCorpus } from './report-changes-corpus.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const files = Number(option('--files') ?? 10_000);
const runs = Number(option('--runs') ?? 1);
const work = join(option('--dir') ?? tmpdir(), 'custos-bench-report-changes');
const custosBin = fileURLToPath(new URL('../../bin/custos.js', import.meta.url));

function check(config: string, db: string): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(custosBin, ['check', '--config', config, '--db', db], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`custos check failed (${r.status}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};
// A database with what its write-ahead log still holds (custos check folds it in when it closes; counted anyway).
const dbSize = (path: string): number => sizeOf(path) + sizeOf(`${path}-wal`);

function run(reportChanges: boolean): Record<string, number> {
  const dir = join(work, reportChanges ? 'on' : 'off');
  rmSync(dir, { recursive: true, force: true });
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  writeCorpus(tree, files, 0);
  const config = join(dir, 'custos.yml');
  writeFileSync(
    config,
    `syscheck:\n  ignore: []\n  directories:\n    - path: ${tree}\n      report_changes: ${reportChanges ? 'yes' : 'no'}\n  diff:\n    disk_quota: 10GiB\n`,
  );
  const db = join(dir, 'custos.db');
  const firstS = check(config, db);
  writeCorpus(tree, files, 1);
  const changedS = check(config, db);
  const content = join(dir, 'custos-content.db');
  return {
    firstS,
    changedS,
    baselineBytesPerFile: dbSize(db) / files,
    contentBytesPerFile: dbSize(content) / files,
    alertsJsonBytesPerFile: sizeOf(join(dir, 'alerts.json')) / files,
    // So the figure is known to be of diffs made: how many alerts carry one.
    alertsWithDiff: readFileSync(join(dir, 'alerts.json'), 'utf8').split('"diff":"@@').length - 1,
    textBytesPerFile: Buffer.byteLength(corpusText(Math.floor(files / 2), 1)),
  };
}

/** Per figure, the median over the runs. */
function medians(all: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(all[0] ?? {})) {
    const values = all.map((r) => r[key] ?? 0).sort((a, b) => a - b);
    out[key] = values[Math.floor((values.length - 1) / 2)] ?? 0;
  }
  return out;
}

// Alternating, so a change in the machine's load during the run falls on both modes alike.
const offRuns: Record<string, number>[] = [];
const onRuns: Record<string, number>[] = [];
for (let r = 0; r < runs; r++) {
  offRuns.push(run(false));
  onRuns.push(run(true));
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ files, runs, off: medians(offRuns), on: medians(onRuns) })}\n`);
