import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { chainHash, GENESIS_HASH } from '../../src/core/event-record.js';
import { checkWorkspace } from '../support/check-workspace.js';
import { runCustos } from '../support/run-custos.js';

interface Received {
  readonly rule: { readonly id: string };
  readonly custos?: Record<string, unknown>;
  readonly syscheck?: { readonly path: string };
}

/** A syslog receiver on loopback UDP: the JSON of every RFC 5424 message it gets. */
async function syslogReceiver(): Promise<{ socket: UdpSocket; port: number; messages: Received[] }> {
  const socket = createSocket('udp4');
  const messages: Received[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString('utf8').replace(/^<\d+>1 (\S+ ){5}- /, '')) as Received));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port, messages };
}

/** A webhook receiver on loopback HTTP: every alert POSTed to it. */
async function webhookReceiver(): Promise<{ server: Server; url: string; alerts: Received[] }> {
  const alerts: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      alerts.push(...(JSON.parse(body) as { alerts: Received[] }).alerts);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/custos`, alerts };
}

/** The HMAC-SHA256 of a head as the README documents it, computed here independently of Custos's code. */
function expectedSignature(key: string, summary: Record<string, unknown>): string {
  const field = (name: string): string => (typeof summary[name] === 'string' || typeof summary[name] === 'number' ? String(summary[name]) : '');
  const text = `custos-history-head:v1\nagent=000\nlength=${field('history_records')}\nlast_id=${field('last_id')}\nlast_hash=${field('chain_hash')}\nbaseline=${field('baseline_digest')}\n`;
  return createHmac('sha256', Buffer.from(key)).update(text).digest('hex');
}

const KEY = 'a-key-that-never-touches-the-db-0123456789';

function keyedWorkspace(extraAlerts = ''): ReturnType<typeof checkWorkspace> & { key: string } {
  const ws = checkWorkspace();
  const key = join(ws.dir, 'history.key');
  writeFileSync(key, `${KEY}\n`, { mode: 0o600 });
  writeFileSync(join(ws.dir, 'custos.yml'), `${readFileSync(join(ws.dir, 'custos.yml'), 'utf8')}alerts:\n  history_key: ${key}\n${extraAlerts}`);
  return { ...ws, key };
}

describe('standalone tamper evidence off the host (issue 11, case 6)', () => {
  it('every check sends its history head, baseline digest and signature to syslog and the webhook', { timeout: 60_000 }, async () => {
    const syslog = await syslogReceiver();
    const webhook = await webhookReceiver();
    try {
      const ws = keyedWorkspace(`  syslog:\n    host: 127.0.0.1\n    port: ${syslog.port}\n  webhook:\n    url: ${webhook.url}\n`);
      writeFileSync(join(ws.tree, 'hosts'), 'a\n');
      const first = await runCustos(['check', ...ws.args]);
      assert.equal(first.code, 0, first.stderr);
      writeFileSync(join(ws.tree, 'implant'), 'x');
      const second = await runCustos(['check', ...ws.args]);
      assert.equal(second.code, 1, second.stderr);
      const line = /history head: record (\d+), 1 records, chain hash ([0-9a-f]{64}), baseline digest ([0-9a-f]{64}), signature ([0-9a-f]{64})/.exec(
        second.stderr,
      );
      assert.ok(line !== null, second.stderr);

      for (const received of [syslog.messages, webhook.alerts]) {
        const summaries = received.filter((a) => a.rule.id === '576');
        assert.equal(summaries.length, 2, JSON.stringify(received));
        const last = summaries[1]?.custos ?? {};
        assert.equal(last.agent_event, 'scan-summary');
        assert.equal(last.chain_hash, line[2]);
        assert.equal(last.baseline_digest, line[3]);
        assert.equal(last.signature, line[4]);
        assert.equal(last.signature, expectedSignature(KEY, last));
        assert.equal(summaries[0]?.custos?.history_records, 0);
        assert.ok(
          received.some((a) => a.rule.id === '554' && a.syscheck?.path === join(ws.tree, 'implant')),
          'the alert itself went off the host too',
        );
      }
      const verify = await runCustos(['verify', ...ws.args]);
      assert.equal(verify.code, 0, verify.stdout);
      assert.equal((await runCustos(['verify', '--head', line[2] as string, ...ws.args])).code, 0);
    } finally {
      syslog.socket.close();
      webhook.server.close();
    }
  });

  it('a history re-chained and a marker rewritten without the key fail verify', { timeout: 60_000 }, async () => {
    const ws = keyedWorkspace();
    writeFileSync(join(ws.tree, 'hosts'), 'a\n');
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    writeFileSync(join(ws.tree, 'implant'), 'x');
    assert.equal((await runCustos(['check', ...ws.args])).code, 1);
    assert.equal((await runCustos(['verify', ...ws.args])).code, 0);
    // As the unkeyed test in hardening.test.ts: the record edited, re-chained, head and marker made to agree.
    const db = new Database(join(ws.dir, 'custos.db'));
    const row = db.prepare("SELECT id, data FROM events WHERE agent_id = '000'").get() as { id: number; data: string };
    const data = row.data.replace('alerted', 'recorded');
    const hash = chainHash(GENESIS_HASH, data);
    db.exec('DROP TRIGGER events_no_update');
    db.prepare('UPDATE events SET data = ?, outcome = ?, hash = ? WHERE id = ?').run(data, 'recorded', hash, row.id);
    db.prepare("UPDATE chain_heads SET last_hash = ? WHERE agent_id = '000'").run(hash);
    db.close();
    const markerFile = join(ws.dir, 'custos.db.head');
    const marker = JSON.parse(readFileSync(markerFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(markerFile, JSON.stringify({ ...marker, lastHash: hash }));
    const verify = await runCustos(['verify', ...ws.args]);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stdout, /the signature in .*custos\.db\.head does not match its head/);
    // Removing the marker does not help either.
    writeFileSync(markerFile, '');
    const emptied = await runCustos(['verify', ...ws.args]);
    assert.notEqual(emptied.code, 0, emptied.stdout);
  });

  it("a trojan's row copied into the baseline fails verify, by the sealed baseline digest", { timeout: 60_000 }, async () => {
    const ws = keyedWorkspace();
    writeFileSync(join(ws.tree, 'sshd'), 'genuine\n');
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    assert.equal((await runCustos(['verify', ...ws.args])).code, 0);
    const db = new Database(join(ws.dir, 'custos.db'));
    db.prepare("UPDATE baseline SET sha256 = ?, fingerprint = fingerprint || 'x' WHERE agent_id = '000' AND type = 'file'").run('f'.repeat(64));
    db.close();
    const verify = await runCustos(['verify', ...ws.args]);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stdout, /the baseline is not the one sealed at the end of the last check/);
  });

  it('a key file others can read, or a symlink to one, is refused (exit 2, naming it)', { timeout: 60_000 }, async () => {
    const ws = keyedWorkspace();
    chmodSync(ws.key, 0o644);
    const readable = await runCustos(['check', ...ws.args]);
    assert.equal(readable.code, 2, readable.stderr);
    assert.match(readable.stderr, /refusing the history key .*history\.key: its group or others may use it \(mode 0644\)/);
    chmodSync(ws.key, 0o600);
    const linked = join(ws.dir, 'linked.key');
    symlinkSync(ws.key, linked);
    writeFileSync(join(ws.dir, 'custos.yml'), readFileSync(join(ws.dir, 'custos.yml'), 'utf8').replace(ws.key, linked));
    const symlinked = await runCustos(['check', ...ws.args]);
    assert.equal(symlinked.code, 2, symlinked.stderr);
    assert.match(symlinked.stderr, /history key .*linked\.key: it is a symbolic link/);
  });
});
