import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A PostgreSQL primary and a streaming hot standby of it, each its own cluster on loopback, made for one test. */
export interface PostgresPair {
  /** `postgres://…` of the primary's `postgres` database. */
  readonly primaryUrl: string;
  readonly standbyUrl: string;
  /** Waits until the standby has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stop(): void;
}

/** The server binaries of the machine's PostgreSQL (Debian's layout), or undefined when there are none. */
export function postgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const bin = version === undefined ? undefined : join(root, version, 'bin');
  return bin !== undefined && existsSync(join(bin, 'initdb')) ? bin : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a primary (initdb, trust authentication on loopback, replication allowed) and a hot standby made from it
 * with `pg_basebackup -R`. The servers run as the `postgres` user (initdb refuses root), in a temp directory that
 * `stop` removes. Needs root and the PostgreSQL server binaries.
 */
export async function startPostgresPair(bin: string): Promise<PostgresPair> {
  const dir = mkdtempSync(join(tmpdir(), 'custos-pg-pair-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  const asPostgres = (tool: string, args: readonly string[]): void => {
    execFileSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--init-groups', join(bin, tool), ...args], { cwd: dir, stdio: 'pipe' });
  };
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const primary = join(dir, 'primary');
  const standby = join(dir, 'standby');
  const started: string[] = [];
  const stop = (): void => {
    for (const data of started.reverse()) {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already down: nothing to stop.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    asPostgres('initdb', ['-D', primary, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    appendFileSync(
      join(primary, 'postgresql.conf'),
      `\nport = ${primaryPort}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nwal_level = replica\nmax_wal_senders = 4\nfsync = off\n`,
    );
    appendFileSync(join(primary, 'pg_hba.conf'), '\nhost replication all 127.0.0.1/32 trust\n');
    asPostgres('pg_ctl', ['-D', primary, '-l', join(dir, 'primary.log'), '-w', 'start']);
    started.push(primary);
    asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standby, '-R']);
    appendFileSync(join(standby, 'postgresql.conf'), `\nport = ${standbyPort}\n`);
    asPostgres('pg_ctl', ['-D', standby, '-l', join(dir, 'standby.log'), '-w', 'start']);
    started.push(standby);
  } catch (error) {
    stop();
    throw error;
  }
  const primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
  const standbyUrl = `postgres://postgres@127.0.0.1:${standbyPort}/postgres`;
  return {
    primaryUrl,
    standbyUrl,
    async caughtUp() {
      const lsn = String(await single(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS v'));
      for (let i = 0; i < 300; i++) {
        if ((await single(standbyUrl, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS v`)) === true) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the standby did not replay the primary's WAL up to ${lsn} in 30 s`);
    },
    stop,
  };
}

async function single(url: string, sql: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ v: unknown }>(sql)).rows[0]?.v;
  } finally {
    await client.end();
  }
}
