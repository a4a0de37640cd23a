import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOssecConfig } from './ossec-config.js';
import { parseYamlConfig } from './yaml-config.js';

const defaults = { dataDir: '/var/lib/custos', hostname: 'host1' };

// The stock ossec.conf's email settings, plus granular <email_alerts> as OSSEC's documentation shows them.
const OSSEC_CONF = `<ossec_config>
  <global>
    <email_notification>yes</email_notification>
    <email_to>ops@example.com</email_to>
    <email_to>security@example.com</email_to>
    <smtp_server>smtp.example.com</smtp_server>
    <email_from>ossecm@example.com</email_from>
    <email_maxperhour>6</email_maxperhour>
    <email_reply_to>noreply@example.com</email_reply_to>
    <logall>no</logall>
  </global>
  <alerts>
    <log_alert_level>1</log_alert_level>
    <email_alert_level>10</email_alert_level>
  </alerts>
  <email_alerts>
    <email_to>web@example.com</email_to>
    <group>web|syscheck_file</group>
    <level>5</level>
    <do_not_delay />
  </email_alerts>
  <email_alerts>
    <email_to>db@example.com</email_to>
    <rule_id>550, 553</rule_id>
    <event_location>(db1)</event_location>
    <do_not_group />
    <format>sms</format>
  </email_alerts>
</ossec_config>
`;

describe('email settings', () => {
  it('reads <global>, <alerts><email_alert_level> and <email_alerts> from ossec.conf', () => {
    const r = parseOssecConfig(OSSEC_CONF, '/var/ossec/etc/ossec.conf', defaults);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    const email = r.value.config.email;
    assert.ok(email !== undefined);
    assert.deepEqual(email.to, ['ops@example.com', 'security@example.com']);
    assert.equal(email.from, 'ossecm@example.com');
    assert.equal(email.replyTo, 'noreply@example.com');
    assert.equal(email.smtpHost, 'smtp.example.com');
    assert.equal(email.smtpPort, 25);
    assert.equal(email.tls, 'auto');
    assert.equal(email.maxPerHour, 6);
    assert.equal(email.alertLevel, 10);
    assert.deepEqual(email.routes, [
      { to: ['web@example.com'], level: 5, groups: ['web', 'syscheck_file'], doNotDelay: true, doNotGroup: false },
      { to: ['db@example.com'], ruleIds: [550, 553], eventLocation: '(db1)', doNotDelay: false, doNotGroup: true },
    ]);
  });
  it('warns only about what it does not support, with its line', () => {
    const r = parseOssecConfig(OSSEC_CONF, 'ossec.conf', defaults);
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.warnings.map((w) => `${w.line}:${w.key}`),
      ['10:global.logall', '13:alerts.log_alert_level', '27:email_alerts.format'],
    );
  });
  it('is off by default and when email_notification is no', () => {
    const empty = parseYamlConfig('', 'custos.yml', defaults);
    assert.ok(empty.ok);
    assert.equal(empty.value.config.email, undefined);
    const off = parseOssecConfig('<ossec_config><global><email_notification>no</email_notification></global></ossec_config>', 'ossec.conf', defaults);
    assert.ok(off.ok);
    assert.equal(off.value.config.email, undefined);
    assert.deepEqual(off.value.warnings, []);
  });
  it('refuses missing and invalid settings, naming file, line and key', () => {
    const bad = `<ossec_config>\n<global>\n<email_notification>yes</email_notification>\n<email_to>not an address</email_to>\n<email_maxperhour>lots</email_maxperhour>\n</global>\n<alerts>\n<email_alert_level>99</email_alert_level>\n</alerts>\n<email_alerts>\n<email_to>x@example.com</email_to>\n<level>high</level>\n</email_alerts>\n</ossec_config>`;
    const r = parseOssecConfig(bad, '/etc/ossec.conf', defaults);
    assert.ok(!r.ok);
    assert.deepEqual(r.error.map((i) => `${i.file}:${i.line}:${i.key}`).sort(), [
      '/etc/ossec.conf:12:email.alerts[0].level',
      '/etc/ossec.conf:3:email.from',
      '/etc/ossec.conf:3:email.smtp_server',
      '/etc/ossec.conf:4:email.to[0]',
      '/etc/ossec.conf:5:email.max_per_hour',
      '/etc/ossec.conf:8:email.alert_level',
    ]);
  });
  it("reads the same settings from custos.yml, with Custos's SMTP options", () => {
    const text = [
      'email:',
      '  notification: yes',
      '  to: ops@example.com',
      '  from: custos@example.com',
      '  smtp_server: "[::1]:2525"',
      '  smtp_tls: required',
      '  smtp_user: custos',
      '  smtp_password_file: smtp.pass',
      '  alert_level: 8',
      '  group_wait: 2s',
      '  retry_delay: 500ms',
      '  alerts:',
      '    - to: [web@example.com]',
      '      group: web',
      '      level: 3',
      '      do_not_group: yes',
    ].join('\n');
    const r = parseYamlConfig(text, '/etc/custos/custos.yml', defaults);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    const email = r.value.config.email;
    assert.equal(email?.smtpHost, '::1');
    assert.equal(email?.smtpPort, 2525);
    assert.equal(email?.tls, 'required');
    assert.equal(email?.passwordFile, '/etc/custos/smtp.pass');
    assert.equal(email?.groupWaitMs, 2000);
    assert.equal(email?.retryDelayMs, 500);
    assert.equal(email?.maxPerHour, 12, "OSSEC's default");
    assert.deepEqual(email?.routes, [{ to: ['web@example.com'], level: 3, groups: ['web'], doNotDelay: false, doNotGroup: true }]);
    const bad = parseYamlConfig(
      'email:\n  notification: yes\n  to: ops@example.com\n  from: a@b\n  smtp_server: "mail:x"\n  smtp_tls: maybe\n',
      'custos.yml',
      defaults,
    );
    assert.ok(!bad.ok);
    assert.deepEqual(bad.error.map((i) => `${i.line}:${i.key}`).sort(), ['5:email.smtp_server', '6:email.smtp_tls']);
  });
});
