import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyAlert } from './build-alert.js';
import type { EmailConfig } from './config/email-config.js';
import { compileEmailRouter } from './email-route.js';

const config: EmailConfig = {
  to: ['ops@example.com'],
  from: 'custos@example.com',
  smtpHost: 'localhost',
  smtpPort: 25,
  tls: 'auto',
  alertLevel: 7,
  maxPerHour: 12,
  groupWaitMs: 5000,
  maxDelayMs: 60_000,
  retryDelayMs: 10_000,
  routes: [
    { to: ['web@example.com'], groups: ['web'], doNotDelay: false, doNotGroup: false },
    { to: ['oncall@example.com', 'OPS@example.com'], level: 12, doNotDelay: true, doNotGroup: false },
    { to: ['db@example.com'], ruleIds: [553], eventLocation: '(db1)', doNotDelay: false, doNotGroup: true },
  ],
};
const route = compileEmailRouter(config);
const alert = (level: number, groups: string[], id = 550): AnyAlert => ({ rule: { id, level, description: 'x', groups } }) as unknown as AnyAlert;
const summary = (a: AnyAlert, location = 'host->syscheck'): string[] =>
  route(a, location).map((r) => `${r.to.join('+')}${r.delay ? '' : ' now'}${r.group ? '' : ' alone'}`);

describe('compileEmailRouter', () => {
  it('sends alerts at or above email_alert_level to email_to, and nothing below', () => {
    assert.deepEqual(summary(alert(7, ['syscheck'])), ['ops@example.com']);
    assert.deepEqual(summary(alert(5, ['syscheck'])), []);
  });
  it('routes by group whatever the global level', () => {
    assert.deepEqual(summary(alert(3, ['syscheck', 'web'])), ['web@example.com']);
    assert.deepEqual(summary(alert(7, ['syscheck', 'web'])), ['ops@example.com+web@example.com']);
  });
  it('routes by level, mails a shared recipient once, and applies do_not_delay to it', () => {
    assert.deepEqual(summary(alert(12, ['syscheck'])), ['oncall@example.com+ops@example.com now']);
  });
  it('routes by rule id and event location, one alert per message with do_not_group', () => {
    assert.deepEqual(summary(alert(7, ['syscheck'], 553), '(db1) any->syscheck'), ['db@example.com alone', 'ops@example.com']);
    assert.deepEqual(summary(alert(7, ['syscheck'], 553), '(web1) any->syscheck'), ['ops@example.com']);
    assert.deepEqual(summary(alert(7, ['syscheck'], 550), '(db1) any->syscheck'), ['ops@example.com']);
  });
  it("honours a rule's <options>: alert_by_email mails it below the level, no_email_alert mails it to no one", () => {
    const withOption = (level: number, email: 'always' | 'never', groups = ['syscheck']): AnyAlert =>
      ({ rule: { id: 100300, level, description: 'x', groups, email } }) as unknown as AnyAlert;
    assert.deepEqual(summary(withOption(3, 'always')), ['ops@example.com']);
    assert.deepEqual(summary(withOption(12, 'never', ['syscheck', 'web'])), []);
  });
});
