import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleAlerts } from '../../../test/support/alerts.js';
import type { AnyAlert } from '../../core/build-alert.js';
import { formatOssecMail } from './format-ossec-mail.js';

describe('formatOssecMail with report_changes', () => {
  it("puts OSSEC's What changed: block, with the diff, under the alert's log text", () => {
    const [first] = sampleAlerts();
    assert.ok(first !== undefined && 'syscheck' in first);
    const alert = { ...first, syscheck: { ...first.syscheck, diff: '@@ -1 +1 @@\n-listen 80\n+listen 443' } } as AnyAlert;
    const mail = formatOssecMail([alert], 'host1');
    assert.ok(mail.text.includes(`${first.full_log}\nWhat changed:\n@@ -1 +1 @@\n-listen 80\n+listen 443\n\n\n\n --END OF NOTIFICATION`), mail.text);
    // Without a diff, no block.
    assert.equal(formatOssecMail([first], 'host1').text.includes('What changed:'), false);
  });
});
