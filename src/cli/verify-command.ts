import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { EXIT, type CommandResult } from './exit-codes.js';
import { loadConfig } from './load-config.js';
import { openExistingStore } from './open-store.js';
import { LOCAL_AGENT_ID } from './run-check.js';
import { databaseProblems } from '../storage/sqlite/database-integrity.js';
import { readHistoryKey } from '../storage/history-key.js';
import { sealProblem } from './verify-seal.js';
import { lostAgainstMarker, readHistoryMarker } from '../storage/history-marker.js';
import type { ChainReport, ChainStart, Store } from '../storage/store.js';

interface VerifyFlags {
  readonly config?: string;
  readonly db?: string;
  readonly data?: string;
  readonly store?: string;
  readonly json?: boolean;
  readonly agent?: string;
  readonly head?: string;
}

/** `custos verify`: checks the history's hash chain; exit 1 and the first broken record when it does not hold. */
export function verifyCommand(result: CommandResult): Command {
  const command = new Command('verify')
    .description("check the history's hash chain and report the first broken record")
    .option('--config <file>', 'custos.yml or ossec.conf')
    .option('--db <file>', 'SQLite baseline file')
    .option('--data <dir>', "a manager's data directory (its custos.db)")
    .option('--store <url>', "the manager's store on PostgreSQL (postgres://…)")
    .option('--agent <id>', 'only this agent')
    .option('--head <hash>', 'a chain head copied off the host earlier (check summary, syslog): it must still be in the history')
    .option('--json', 'print the report as JSON');
  command.action(async (flags: VerifyFlags) => {
    const { config } = loadConfig(flags);
    const damaged = config.storage.engine === 'sqlite' && existsSync(config.storage.path) ? damagedFile(config.storage.path, flags.agent) : undefined;
    const store = damaged === undefined ? await openExistingStore(config.storage) : undefined;
    try {
      const key = config.alerts.historyKeyFile === undefined ? undefined : readHistoryKey(config.alerts.historyKeyFile);
      const report =
        damaged ??
        (await againstKnownHeads(
          await (store as Store).verifyChain(flags.agent),
          store as Store,
          flags,
          config.storage.engine === 'sqlite' ? config.storage.path : undefined,
          key,
        ));
      if (flags.json === true) process.stdout.write(`${JSON.stringify(report)}\n`);
      else if (report.ok) process.stdout.write(`history intact: ${report.checked} records verified\n${describeStarts(report.starts ?? [])}`);
      else {
        const b = report.firstBroken;
        process.stdout.write(
          `history BROKEN at record ${b?.eventId ?? '?'} of agent ${b?.agentId ?? '?'}: ${b?.reason ?? ''} (${report.checked} records verified before it)\n`,
        );
      }
      result.exitCode = report.ok ? EXIT.OK : EXIT.ALERTS;
    } finally {
      await store?.close();
    }
  });
  return command;
}

/**
 * A chain that verifies can still be one rebuilt by whoever could write the database, or one cut short: it is
 * also held against the marker the last check left beside the database and, with `--head`, a head copied off
 * the host (which an intruder without it cannot forge).
 */
async function againstKnownHeads(
  report: ChainReport,
  store: Store,
  flags: VerifyFlags,
  databasePath: string | undefined,
  key: Buffer | undefined,
): Promise<ChainReport> {
  if (!report.ok) return report;
  const agentId = flags.agent ?? LOCAL_AGENT_ID;
  if (flags.head !== undefined && !(await store.hasChainHash(agentId, flags.head.trim().toLowerCase()))) {
    return {
      ok: false,
      checked: report.checked,
      firstBroken: { agentId, eventId: 0, reason: `the head ${flags.head} copied earlier is not in the history: it was rewritten` },
    };
  }
  const marker = databasePath === undefined || flags.data !== undefined ? undefined : readHistoryMarker(databasePath);
  if (marker !== undefined && (flags.agent === undefined || flags.agent === marker.agentId)) {
    const lost = await lostAgainstMarker(store, marker);
    if (lost !== undefined) return { ok: false, checked: report.checked, firstBroken: { agentId: marker.agentId, eventId: marker.lastId ?? 0, reason: lost } };
  }
  if (key !== undefined && databasePath !== undefined && flags.data === undefined) {
    const problem = await sealProblem(store, databasePath, marker, key, agentId);
    if (problem !== undefined) return { ok: false, checked: report.checked, firstBroken: { agentId, eventId: marker?.lastId ?? 0, reason: problem } };
  }
  return report;
}

/**
 * A database file damaged in place is reported before its chain is read (SQLite's full integrity check): rows on
 * a damaged page can vanish from a read without an error, which would pass for a shorter history.
 */
function damagedFile(path: string, agent: string | undefined): ChainReport | undefined {
  const problems = databaseProblems(path, 'full');
  if (problems.length === 0) return undefined;
  return {
    ok: false,
    checked: 0,
    firstBroken: { agentId: agent ?? LOCAL_AGENT_ID, eventId: 0, reason: `the database file is damaged: ${problems.join('; ')}` },
  };
}

/**
 * Where each chain that retention shortened starts: the first kept record, and the hash it chains from, which is
 * the hash of the last record dropped (kept as the chain's anchor when it was dropped).
 */
function describeStarts(starts: readonly ChainStart[]): string {
  return starts
    .map((s) => {
      const dropped = `${s.droppedRecords} older records dropped by retention, the last ${s.lastDroppedId} at ${s.lastDroppedAt}`;
      return s.firstKept === undefined
        ? `agent ${s.agentId}: every record dropped by retention (${dropped}); its head is that record's hash ${s.lastDroppedHash}\n`
        : `agent ${s.agentId}: kept history starts at record ${s.firstKept.id} (${s.firstKept.at}), chained from ${s.lastDroppedHash} (${dropped})\n`;
    })
    .join('');
}
