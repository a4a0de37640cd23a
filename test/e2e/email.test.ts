import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CustosService, eventually } from '../support/custos-service.js';
import { runCustos } from '../support/run-custos.js';
import { makeLoopbackCertificate, startSmtpServer, type ReceivedMail, type SmtpTestServer } from '../support/smtp-test-server.js';
import { bytesPath, tempDir } from '../support/temp-dir.js';

/**
 * Email alerts end to end: the real CLI (`check`, and a real manager with a real agent over mutual TLS) mailing
 * through a real SMTP server on loopback with STARTTLS and a login. Nothing is mocked.
 */

const dir = tempDir('custos-email-e2e-');
const certificate = makeLoopbackCertificate(dir);
writeFileSync(join(dir, 'smtp.pass'), 'letmein\n');
const servers: SmtpTestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function smtp(port = 0): Promise<SmtpTestServer> {
  const server = await startSmtpServer({ port, tls: { key: certificate.key, cert: certificate.cert }, auth: { user: 'custos', pass: 'letmein' } });
  servers.push(server);
  return server;
}

/** The OSSEC notification blocks of a mail: one per alert. */
const blocks = (mail: ReceivedMail | undefined): string[] => (mail?.text ?? '').split('OSSEC HIDS Notification.\n').slice(1);
const ruleIds = (mail: ReceivedMail | undefined): number[] => blocks(mail).map((b) => Number(/\nRule: (\d+) fired/.exec(b)?.[1]));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The email settings of custos.yml, for a server on `port`. */
function emailYaml(port: number, extra: readonly string[] = []): string {
  return [
    'email:',
    '  notification: yes',
    '  to: [ops@example.com]',
    '  from: custos@example.com',
    `  smtp_server: 127.0.0.1:${port}`,
    '  smtp_tls: required',
    `  smtp_ca: ${certificate.certFile}`,
    '  smtp_user: custos',
    `  smtp_password_file: ${join(dir, 'smtp.pass')}`,
    ...extra,
    '',
  ].join('\n');
}

/** A monitored tree with its database, and the check arguments for a config file written beside it. */
function workspace(name: string, files: Record<string, string>): { home: string; tree: string; args: string[] } {
  const home = join(dir, name);
  const tree = join(home, 'tree');
  mkdirSync(tree, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(tree, file), content);
  return { home, tree, args: ['--db', join(home, 'custos.db')] };
}

/** Waits, if the clock is about to turn the hour, until it has: email_maxperhour counts per clock hour. */
async function awayFromHourBoundary(needMs: number): Promise<void> {
  const left = 3_600_000 - (Date.now() % 3_600_000);
  if (left < needMs) await sleep(left + 100);
}

describe('email alerts from custos check', { timeout: 120_000 }, () => {
  it('mails an alert at or above email_alert_level and not one below it, configured from ossec.conf', async () => {
    const server = await smtp();
    const ws = workspace('ossec-conf', { hosts: '127.0.0.1 localhost\n' });
    const conf = join(ws.home, 'ossec.conf');
    writeFileSync(
      conf,
      `<ossec_config>
  <global>
    <email_notification>yes</email_notification>
    <email_to>ops@example.com</email_to>
    <smtp_server>127.0.0.1:${server.port}</smtp_server>
    <email_from>ossecm@example.com</email_from>
    <smtp_tls>required</smtp_tls>
    <smtp_ca>${certificate.certFile}</smtp_ca>
    <smtp_user>custos</smtp_user>
    <smtp_password_file>${join(dir, 'smtp.pass')}</smtp_password_file>
  </global>
  <alerts>
    <email_alert_level>7</email_alert_level>
  </alerts>
  <syscheck>
    <directories check_all="yes">${ws.tree}</directories>
  </syscheck>
</ossec_config>
`,
    );
    const args = ['check', '--config', conf, ...ws.args];
    const first = await runCustos(args);
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stderr, /warning/i, 'the email settings are read, not warned about');
    writeFileSync(join(ws.tree, 'newcomer'), 'added: rule 554, level 5\n');
    const below = await runCustos(args);
    assert.equal(below.code, 1, below.stderr);
    assert.equal(server.mails.length, 0, 'a level-5 alert is below email_alert_level 7');
    const evil = '127.0.0.1 localhost\n10.6.6.6 evil\n';
    writeFileSync(join(ws.tree, 'hosts'), evil);
    const above = await runCustos(args);
    assert.equal(above.code, 1, above.stderr);
    assert.match(above.stderr, /custos: email: mailed 1 alerts in 1 messages/);
    assert.equal(server.mails.length, 1);
    const mail = server.mails[0];
    assert.equal(mail?.secure, true);
    assert.equal(mail?.user, 'custos');
    assert.equal(mail?.from, 'ossecm@example.com');
    assert.match(mail?.headers.get('subject') ?? '', /^OSSEC Notification - .+->syscheck - Alert level 7$/);
    assert.deepEqual(ruleIds(mail), [550]);
    assert.ok(
      mail?.text.includes(`Integrity checksum changed for: '${join(ws.tree, 'hosts')}'\nSize changed from '20' to '${Buffer.byteLength(evil)}'`),
      mail?.text,
    );
  });

  it('mails a burst of 40 alerts as one message, a non-UTF-8 name shown escaped', async () => {
    const server = await smtp();
    const files = Object.fromEntries(Array.from({ length: 39 }, (_, i) => [`lib${String(i).padStart(2, '0')}.so`, `v1 ${i}\n`]));
    const ws = workspace('burst', files);
    const odd = bytesPath(ws.tree, '/caf', Buffer.from([0xe9]), '.conf');
    writeFileSync(odd, 'v1\n');
    writeFileSync(join(ws.home, 'custos.yml'), `syscheck:\n  directories:\n    - path: ${ws.tree}\n${emailYaml(server.port)}`);
    const args = ['check', '--config', join(ws.home, 'custos.yml'), ...ws.args];
    assert.equal((await runCustos(args)).code, 0);
    // A package upgrade: every file replaced at once.
    for (const file of Object.keys(files)) writeFileSync(join(ws.tree, file), `v2 of ${file}\n`);
    writeFileSync(odd, 'v2\n');
    const run = await runCustos(args);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(server.mails.length, 1);
    assert.equal(blocks(server.mails[0]).length, 40);
    assert.ok(server.mails[0]?.text.includes(`Integrity checksum changed for: '${ws.tree}/caf\\xe9.conf'`), 'the byte that is not UTF-8 is shown as \\xe9');
  });

  it('sends at most email_maxperhour messages an hour and says the rest are held', async () => {
    await awayFromHourBoundary(60_000);
    const server = await smtp();
    const ws = workspace('maxperhour', { a: '1\n', b: '1\n', c: '1\n' });
    writeFileSync(join(ws.home, 'custos.yml'), `syscheck:\n  directories:\n    - path: ${ws.tree}\n${emailYaml(server.port, ['  max_per_hour: 2'])}`);
    const args = ['check', '--config', join(ws.home, 'custos.yml'), ...ws.args];
    assert.equal((await runCustos(args)).code, 0);
    const outputs: string[] = [];
    for (const file of ['a', 'b', 'c']) {
      writeFileSync(join(ws.tree, file), 'changed\n');
      const run = await runCustos(args);
      assert.equal(run.code, 1, run.stderr);
      outputs.push(run.stderr);
    }
    assert.equal(server.mails.length, 2);
    assert.match(
      outputs[2] ?? '',
      /custos: email: email_maxperhour \(2\) reached; 1 alerts are held and go out grouped after \d{4}-\d\d-\d\dT\d\d:00:00\.000Z/,
    );
    // The next check within the hour still holds it (and says so): nothing is lost, nothing is sent over the limit.
    const again = await runCustos(args);
    assert.equal(again.code, 0);
    assert.match(again.stderr, /1 alerts are held/);
    assert.equal(server.mails.length, 2);
  });
});

describe('email alerts from the manager', { timeout: 180_000 }, () => {
  const managerData = join(dir, 'manager');
  const tree = join(dir, 'agent-tree');
  let server: SmtpTestServer;
  let smtpPort: number;
  let manager: CustosService;
  let managerPort: number;
  let agent: CustosService | undefined;

  async function startManager(port = 0): Promise<void> {
    manager = new CustosService(['manager', 'start', '--data', managerData, '--listen', `127.0.0.1:${port}`]);
    managerPort = (await manager.waitForMessage('manager listening', 30_000)).port as number;
  }

  /** The mails that reached `address`. */
  const mailsTo = (address: string): ReceivedMail[] => server.mails.filter((m) => m.to.includes(address));

  before(async () => {
    server = await smtp();
    smtpPort = server.port;
    mkdirSync(join(managerData), { recursive: true });
    mkdirSync(tree);
    writeFileSync(join(tree, 'index.php'), 'v1\n');
    writeFileSync(join(tree, 'secret.key'), 'v1\n');
    writeFileSync(
      join(managerData, 'local_rules.xml'),
      `<group name="local,syscheck,">\n  <rule id="100200" level="12">\n    <if_group>syscheck</if_group>\n    <match>secret.key</match>\n    <description>Key material changed</description>\n  </rule>\n</group>\n`,
    );
    writeFileSync(
      join(managerData, 'custos.yml'),
      [
        'rules:',
        '  files: [local_rules.xml]',
        emailYaml(smtpPort, [
          '  group_wait: 1s',
          '  retry_delay: 300ms',
          '  alerts:',
          '    - to: web@example.com',
          '      group: syscheck_entry_added',
          '    - to: oncall@example.com',
          '      level: 12',
        ]),
      ].join('\n'),
    );
    await startManager();
    const token = await runCustos(['manager', 'token', '--data', managerData]);
    assert.equal(token.code, 0, token.stderr);
    const agentData = join(dir, 'agent');
    const enrolled = await runCustos([
      'agent',
      'enroll',
      '--manager',
      `https://127.0.0.1:${managerPort}`,
      '--token',
      token.stdout.trim(),
      '--data',
      agentData,
      '--name',
      'web-1',
    ]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    writeFileSync(join(agentData, 'custos.yml'), `syscheck:\n  frequency: 1h\n  directories:\n    - path: ${tree}\n      realtime: yes\n`);
    agent = new CustosService(['agent', 'start', '--data', agentData, '--config', join(agentData, 'custos.yml'), '--keepalive', '1s']);
    await agent.waitForMessage('watching in realtime', 30_000);
    await agent.waitForMessage('outbox delivered', 30_000);
  });
  after(async () => {
    await agent?.kill();
    await manager?.kill();
  });

  it('routes alerts by level and by group to the granular recipients', async () => {
    writeFileSync(join(tree, 'index.php'), 'v2: rule 550, level 7\n');
    writeFileSync(join(tree, 'shell.php'), 'new: rule 554, level 5, group syscheck_entry_added\n');
    writeFileSync(join(tree, 'secret.key'), 'v2: rule 100200, level 12\n');
    const received = (address: string): number[] =>
      mailsTo(address)
        .flatMap((m) => ruleIds(m))
        .sort((a, b) => a - b);
    await eventually(
      () => (received('web@example.com').length > 0 && received('oncall@example.com').length > 0 && received('ops@example.com').length >= 2 ? true : undefined),
      30_000,
      'the routed mails',
    );
    // Anything sent to a wrong recipient would have gone out with these.
    await sleep(1500);
    assert.deepEqual(received('ops@example.com'), [550, 100200], 'email_to: level 7 and up');
    assert.deepEqual(received('web@example.com'), [554], 'the group route, below the global level');
    assert.deepEqual(received('oncall@example.com'), [100200], 'the level route');
    assert.ok(mailsTo('oncall@example.com').every((m) => m.headers.get('subject') === 'OSSEC Notification - (web-1) any->syscheck - Alert level 12'));
  });

  it('retries while the SMTP server is down for a while, then mails the alert once', async () => {
    await server.close();
    const before = server.mails.length;
    const from = manager.lines.length;
    writeFileSync(join(tree, 'index.php'), 'v3, changed during the outage\n');
    await manager.waitForLog((l) => l.msg.startsWith('email: cannot mail 1 alerts'), 30_000, from);
    await sleep(4000);
    const attempts = manager.lines.slice(from).filter((l) => l.msg.startsWith('email: cannot mail')).length;
    assert.ok(attempts >= 3, `retried with backoff (${attempts} attempts)`);
    const down = server;
    server = await smtp(smtpPort);
    await eventually(() => (server.mails.length > 0 ? true : undefined), 30_000, 'the mail after the outage');
    await sleep(2000);
    assert.equal(server.mails.length, 1, 'mailed once');
    assert.deepEqual(ruleIds(server.mails[0]), [550]);
    assert.equal(down.mails.length, before);
    assert.ok(!JSON.stringify(manager.lines).includes('letmein'), 'the SMTP password is never logged');
  });

  it('mails an alert queued before a kill -9 of the manager once, after the restart', async () => {
    await server.close();
    const from = manager.lines.length;
    writeFileSync(join(tree, 'secret.key'), 'v3, changed just before the crash\n');
    await manager.waitForLog((l) => l.msg.startsWith('email: cannot mail'), 30_000, from);
    await manager.kill('SIGKILL');
    server = await smtp(smtpPort);
    await startManager(managerPort);
    await eventually(
      () => (mailsTo('oncall@example.com').length > 0 && mailsTo('ops@example.com').length > 0 ? true : undefined),
      30_000,
      'the mails after the restart',
    );
    await sleep(2000);
    assert.deepEqual(
      server.mails.map((m) => [m.to.join(','), ruleIds(m).join(',')]),
      [['oncall@example.com,ops@example.com', '100200']],
      'one message, once',
    );
  });
});
