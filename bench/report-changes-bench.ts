/**
 * report_changes cost: N changed text files of ~10 KB, checked with report_changes on and off, in real `custos
 * check` runs. Prints one JSON line: per mode, the wall time of the first (baseline) check and of the check that
 * finds every file changed, and with report_changes the content database's size per file.
 *
 *   node dist/bench/report-changes-bench.js [--files 10000] [--dir DIR] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const files = Number(option('--files') ?? 10_000);
const work = join(option('--dir') ?? tmpdir(), 'custos-bench-report-changes');
const custosBin = fileURLToPath(new URL('../../bin/custos.js', import.meta.url));

/** ~10 KB of configuration-like text, different per file and per version (version changes 3 lines in 200). */
function text(file: number, version: number): string {
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) {
    const changed = version > 0 && (i === 10 || i === 100 || i === 190);
    lines.push(`option_${i}_of_${file} = value-${(file * 7919 + i * 104729) % 1000003}${changed ? `-v${version}` : ''} # setting ${i}`);
  }
  return `${lines.join('\n')}\n`;
}

function writeTree(tree: string, version: number): void {
  for (let f = 0; f < files; f++) {
    const dir = join(tree, `d${Math.floor(f / 100)}`);
    if (version === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${f}.conf`), text(f, version));
  }
}

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

function run(reportChanges: boolean): Record<string, number> {
  const dir = join(work, reportChanges ? 'on' : 'off');
  rmSync(dir, { recursive: true, force: true });
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  writeTree(tree, 0);
  const config = join(dir, 'custos.yml');
  writeFileSync(config, `syscheck:\n  ignore: []\n  directories:\n    - path: ${tree}\n      report_changes: ${reportChanges ? 'yes' : 'no'}\n  diff:\n    disk_quota: 10GiB\n`);
  const db = join(dir, 'custos.db');
  const firstS = check(config, db);
  writeTree(tree, 1);
  const changedS = check(config, db);
  const content = join(dir, 'custos-content.db');
  return { firstS, changedS, contentBytesPerFile: sizeOf(content) / files, alertsJsonBytesPerFile: sizeOf(join(dir, 'alerts.json')) / files, textBytesPerFile: Buffer.byteLength(text(0, 1)) };
}

const off = run(false);
const on = run(true);
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ files, off, on })}\n`);
