import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sampleAlerts } from '../../../test/support/alerts.js';
import { makeLoopbackCertificate, startSmtpServer, type SmtpTestServer } from '../../../test/support/smtp-test-server.js';
import { eventually } from '../../../test/support/custos-service.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import type { AnyAlert } from '../../core/build-alert.js';
import type { EmailConfig } from '../../core/config/email-config.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { EmailAlertSink } from './email-alert-sink.js';
import { createSmtpSender } from './smtp-sender.js';

/**
 * The email sink against a real SMTP server on loopback (the `smtp-server` library) with STARTTLS and login,
 * through nodemailer, with the queue in a real SQLite store.
 */

const dir = tempDir('custos-email-');
const certificate = makeLoopbackCertificate(dir);
const passwordFile = join(dir, 'smtp.pass');
writeFileSync(passwordFile, 's3cret\n');
const servers: SmtpTestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
let n = 0;

async function server(options: Parameters<typeof startSmtpServer>[0] = {}): Promise<SmtpTestServer> {
  const s = await startSmtpServer({ tls: { key: certificate.key, cert: certificate.cert }, auth: { user: 'custos', pass: 's3cret' }, ...options });
  servers.push(s);
  return s;
}

function emailConfig(port: number, extra: Partial<EmailConfig> = {}): EmailConfig {
  return {
    to: ['ops@example.com'],
    from: 'custos@example.com',
    replyTo: 'noreply@example.com',
    smtpHost: '127.0.0.1',
    smtpPort: port,
    tls: 'required',
    caFile: certificate.certFile,
    user: 'custos',
    passwordFile,
    alertLevel: 7,
    maxPerHour: 12,
    groupWaitMs: 50,
    maxDelayMs: 60_000,
    retryDelayMs: 100,
    routes: [],
    ...extra,
  };
}

function sink(store: SqliteStore, config: EmailConfig, options: { background?: boolean; now?: () => number; log?: string[] } = {}): EmailAlertSink {
  const log = options.log ?? [];
  return new EmailAlertSink({
    store,
    config,
    sender: createSmtpSender(config),
    hostname: 'host1',
    log: (m) => log.push(m),
    background: options.background ?? false,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}

const openStore = (): SqliteStore => SqliteStore.open(join(dir, `store-${n++}.db`));

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** `count` modifications alerted at level 7, as a package upgrade raises them. */
function burst(count: number, at: Date): AnyAlert[] {
  const [modified] = sampleAlerts(at);
  assert.ok(modified !== undefined);
  return Array.from({ length: count }, (_, i) => ({ ...modified, id: `${at.getTime()}.burst${i}`, full_log: `${modified.full_log}\n(file ${i})` }));
}

describe('EmailAlertSink', { timeout: 60_000 }, () => {
  it('mails the alerts at or above email_alert_level as one OSSEC notification, over STARTTLS with a login', async () => {
    const smtp = await server();
    const store = openStore();
    const email = sink(store, emailConfig(smtp.port));
    const alerts = sampleAlerts();
    await email.write(alerts);
    await email.close();
    assert.equal(smtp.mails.length, 1);
    const mail = smtp.mails[0];
    assert.ok(mail !== undefined);
    assert.equal(mail.secure, true, 'STARTTLS was used');
    assert.equal(mail.user, 'custos', 'the configured login was used');
    assert.equal(mail.from, 'custos@example.com');
    assert.deepEqual(mail.to, ['ops@example.com']);
    assert.equal(mail.headers.get('reply-to'), 'noreply@example.com');
    assert.match(mail.headers.get('message-id') ?? '', /^<custos\.[0-9a-f]{40}@example\.com>$/);
    const mailed = alerts.filter((a) => a.rule.level >= 7);
    const top = Math.max(...mailed.map((a) => a.rule.level));
    assert.equal(mail.headers.get('subject'), `OSSEC Notification - (web1) any->syscheck - Alert level ${top}`);
    const blocks = mail.text.split('OSSEC HIDS Notification.\n').slice(1);
    assert.equal(blocks.length, mailed.length, 'the level-5 alert is below email_alert_level');
    for (const [i, alert] of mailed.entries()) {
      const block = blocks[i] ?? '';
      assert.ok(
        block.includes(
          `Received From: (web1) any->syscheck\nRule: ${alert.rule.id} fired (level ${alert.rule.level}) -> "${alert.rule.description}"\nPortion of the log(s):\n\n${alert.full_log}\n`,
        ),
        block,
      );
      assert.ok(block.trimEnd().endsWith('--END OF NOTIFICATION'));
    }
    // The known-bad alert is about a path that is not UTF-8 and holds a newline: shown escaped, never raw.
    assert.ok(mail.text.includes("'/tmp/x\\xff\\ny'"), mail.text);
    await store.close();
  });

  it('sends nothing to a server whose certificate it cannot verify, and keeps the alerts queued', async () => {
    const smtp = await server();
    const store = openStore();
    const log: string[] = [];
    // A certificate the client does not trust.
    const stranger = makeLoopbackCertificate(dir, 'stranger');
    const untrusting = sink(store, { ...emailConfig(smtp.port), caFile: stranger.certFile }, { log });
    await untrusting.write(sampleAlerts());
    await untrusting.close();
    assert.equal(smtp.mails.length, 0);
    assert.match(log.join('\n'), /cannot mail 3 alerts through 127\.0\.0\.1:\d+ .*certificate.*they stay queued for the next check/);
    assert.equal((await store.pendingEmails(10)).length, 3);
    const trusting = sink(store, emailConfig(smtp.port), { log });
    await trusting.close();
    assert.equal(smtp.mails.length, 1, 'the next run, trusting the server, mails them');
    assert.equal((await store.pendingEmails(10)).length, 0);
    await store.close();
  });

  it('smtp_tls auto uses STARTTLS when offered and plain SMTP otherwise; required refuses plain SMTP', async () => {
    const plain = await startSmtpServer();
    servers.push(plain);
    const store = openStore();
    const { user: _user, passwordFile: _password, ...loginFree } = emailConfig(plain.port);
    const withoutLogin: EmailConfig = { ...loginFree, tls: 'auto' };
    const auto = sink(store, withoutLogin);
    await auto.write(sampleAlerts());
    await auto.close();
    assert.deepEqual(
      plain.mails.map((m) => m.secure),
      [false],
    );
    const log: string[] = [];
    const required = sink(store, { ...withoutLogin, tls: 'required' }, { log });
    await required.write(sampleAlerts(new Date('2026-11-28T00:00:00Z')));
    await required.close();
    assert.equal(plain.mails.length, 1, 'nothing sent in the clear');
    assert.match(log.join('\n'), /cannot mail 3 alerts .*STARTTLS/);
    const tlsServer = await server();
    const offered = sink(store, { ...emailConfig(tlsServer.port), tls: 'auto' });
    await offered.close();
    assert.deepEqual(
      tlsServer.mails.map((m) => m.secure),
      [true],
      'the queued alerts went over STARTTLS',
    );
    await store.close();
  });

  it('groups a burst of 40 alerts into one message once the burst is over', async () => {
    const smtp = await server();
    const store = openStore();
    const email = sink(store, emailConfig(smtp.port, { groupWaitMs: 300 }), { background: true });
    const alerts = burst(40, new Date());
    // As a manager receives them: in several batches, close together.
    for (let i = 0; i < 40; i += 8) await email.write(alerts.slice(i, i + 8));
    await eventually(() => (smtp.mails.length > 0 ? true : undefined), 10_000, 'a mail');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0]?.text.split('OSSEC HIDS Notification.').length, 41);
    await email.close();
    await store.close();
  });

  it('retries while the SMTP server is down and mails the alerts once when it is back', async () => {
    const port = await freePort();
    const store = openStore();
    const log: string[] = [];
    const email = sink(store, emailConfig(port), { background: true, log });
    await email.write(sampleAlerts());
    await eventually(() => (log.filter((l) => l.includes('cannot mail')).length >= 3 ? true : undefined), 10_000, 'three failed attempts');
    const smtp = await server({ port });
    await eventually(() => (smtp.mails.length > 0 ? true : undefined), 15_000, 'the mail after the outage');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(smtp.mails.length, 1, 'mailed once');
    assert.match(log[0] ?? '', /ECONNECTION|ECONNREFUSED/);
    assert.ok(!log.join('\n').includes('s3cret'), 'no password in the logs');
    await email.close();
    await store.close();
  });

  it('after a crash, mails what was queued once, and never queues again what was already mailed', async () => {
    const port = await freePort();
    const path = join(dir, 'crash.db');
    const alerts = sampleAlerts();
    let store = SqliteStore.open(path);
    // The server is down: the alerts are queued, then the process dies (the store is simply dropped).
    const first = sink(store, emailConfig(port), { log: [] });
    await first.write(alerts);
    await first.close();
    await store.close();
    const smtp = await server({ port });
    store = SqliteStore.open(path);
    const second = sink(store, emailConfig(port));
    // At start-up the delivery queue hands the same alerts over again: they are not queued twice.
    await second.redeliver(alerts);
    await second.close();
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0]?.text.split('OSSEC HIDS Notification.').length, 4);
    const third = sink(store, emailConfig(port));
    await third.redeliver(alerts);
    await third.close();
    assert.equal(smtp.mails.length, 1, 'alerts already mailed are not mailed again');
    await store.close();
  });

  it('sends at most email_maxperhour messages an hour, and the held alerts grouped at the next hour', async () => {
    const smtp = await server();
    const store = openStore();
    const hour = 3_600_000;
    let now = Math.floor(Date.now() / hour) * hour + 60_000;
    const log: string[] = [];
    const email = sink(store, emailConfig(smtp.port, { maxPerHour: 2 }), { now: () => now, log });
    for (let i = 0; i < 4; i++) {
      await email.write(burst(3, new Date(now)).map((a) => ({ ...a, id: `${a.id}.${i}` })));
      await email.flush();
      now += 60_000;
    }
    assert.equal(smtp.mails.length, 2);
    assert.equal((await store.pendingEmails(100)).length, 6);
    assert.match(log.join('\n'), /email_maxperhour \(2\) reached; 3 alerts are held/);
    now += hour;
    await email.flush();
    assert.equal(smtp.mails.length, 3, 'one message for everything held');
    assert.equal(smtp.mails[2]?.text.split('OSSEC HIDS Notification.').length, 7);
    await email.close();
    await store.close();
  });

  it('does not retry a message the server refuses for good, and goes on with the others', async () => {
    const smtp = await server({ refuse: ['gone@example.com'] });
    const store = openStore();
    const log: string[] = [];
    // do_not_delay gives gone@ a message of its own (the two alerts of level 12 and up).
    const config = emailConfig(smtp.port, { routes: [{ to: ['gone@example.com'], level: 12, doNotDelay: true, doNotGroup: false }] });
    const email = sink(store, config, { log });
    await email.write(sampleAlerts());
    await email.close();
    assert.match(log.join('\n'), /refused a message of 2 alerts to gone@example\.com for good \(EENVELOPE: .*550/);
    assert.deepEqual(
      smtp.mails.map((m) => m.to),
      [['ops@example.com']],
      'ops@ got its message',
    );
    assert.equal((await store.pendingEmails(10)).length, 0, 'nothing is retried');
    const shared = sink(store, emailConfig(smtp.port, { routes: [{ to: ['gone@example.com'], level: 12, doNotDelay: false, doNotGroup: false }] }), { log });
    await shared.write(sampleAlerts(new Date('2026-11-28T00:00:00Z')));
    await shared.close();
    assert.match(log.join('\n'), /refused recipients gone@example\.com of a message of 2 alerts \(the others got it\)/);
    // Without do_not_delay, gone@ shares a message with ops@: the server takes it for ops@ only.
    assert.deepEqual(
      smtp.mails.map((m) => m.to),
      [['ops@example.com'], ['ops@example.com'], ['ops@example.com']],
    );
    await store.close();
  });
});
