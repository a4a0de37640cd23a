import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOssecConfig } from './ossec-config.js';

const defaults = { dataDir: '/var/lib/custos', hostname: 'host1' };

// Shaped after OSSEC's documented syscheck examples (ossec-docs: manual/syscheck and syntax/ossec_config.syscheck).
const OSSEC_CONF = `<?xml version="1.0"?>
<ossec_config>
  <global>
    <email_notification>no</email_notification>
  </global>
  <syscheck>
    <frequency>7200</frequency>
    <scan_on_start>yes</scan_on_start>
    <alert_new_files>no</alert_new_files>
    <directories check_all="yes">/etc,/usr/bin,/usr/sbin</directories>
    <directories check_all="yes">/bin,/sbin</directories>
    <directories realtime="yes" report_changes="yes" check_sum="yes" restrict=".php$">/var/www</directories>
    <directories check_all="yes" check_md5sum="no" no_recurse="yes">/opt/app</directories>
    <ignore>/etc/mtab</ignore>
    <ignore>/etc/hosts.deny</ignore>
    <ignore type="sregex">.log$|.swp$</ignore>
    <nodiff>/etc/ssl/private.key</nodiff>
    <auto_ignore frequency="10" timeframe="3600">no</auto_ignore>
    <skip_nfs>yes</skip_nfs>
    <prefilter_cmd>/usr/sbin/prelink -y</prefilter_cmd>
  </syscheck>
</ossec_config>
<ossec_config>
  <syscheck>
    <directories check_all="yes" whodata="yes">/root</directories>
  </syscheck>
</ossec_config>
`;

describe('parseOssecConfig', () => {
  const r = parseOssecConfig(OSSEC_CONF, '/var/ossec/etc/ossec.conf', defaults);
  it('reads <syscheck> across several <ossec_config> roots', () => {
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    const s = r.value.config.syscheck;
    assert.deepEqual(
      s.directories.map((d) => d.path),
      ['/etc', '/usr/bin', '/usr/sbin', '/bin', '/sbin', '/var/www', '/opt/app', '/root'],
    );
    assert.equal(s.frequencyMs, 7_200_000);
    assert.equal(s.alertNewFiles, false);
    assert.equal(s.skip.nfs, true);
  });
  it('maps directory attributes', () => {
    assert.ok(r.ok);
    const [www, opt] = r.value.config.syscheck.directories.slice(5);
    assert.equal(www?.realtime, true);
    assert.equal(www?.reportChanges, true);
    assert.equal(www?.restrict, '.php$');
    assert.equal(www?.checks.size, false);
    assert.equal(www?.checks.sha256, true);
    assert.equal(opt?.checks.md5, false);
    assert.equal(opt?.checks.sha1, true);
    assert.equal(opt?.recursionLevel, 0);
  });
  it('reads plain and sregex ignores', () => {
    assert.ok(r.ok);
    assert.deepEqual(r.value.config.syscheck.ignore, [
      { kind: 'path', source: '/etc/mtab' },
      { kind: 'path', source: '/etc/hosts.deny' },
      { kind: 'sregex', source: '.log$|.swp$' },
    ]);
    assert.deepEqual(r.value.config.syscheck.nodiff, [{ kind: 'path', source: '/etc/ssl/private.key' }]);
  });
  it("reads Wazuh's <diff> block and diff_size_limit", () => {
    const text = `<ossec_config><syscheck>
  <directories report_changes="yes" diff_size_limit="2KB">/etc</directories>
  <diff>
    <disk_quota><enabled>yes</enabled><limit>5MB</limit></disk_quota>
    <file_size><enabled>yes</enabled><limit>64KiB</limit></file_size>
    <nodiff type="sregex">.secret$</nodiff>
  </diff>
</syscheck></ossec_config>`;
    const parsed = parseOssecConfig(text, 'ossec.conf', defaults);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const s = parsed.value.config.syscheck;
    assert.equal(s.directories[0]?.reportChanges, true);
    assert.equal(s.directories[0]?.diffSizeLimitBytes, 2000);
    assert.equal(s.diff?.diskQuotaBytes, 5_000_000);
    assert.equal(s.diff?.fileSizeLimitBytes, 65536);
    assert.deepEqual(s.nodiff, [{ kind: 'sregex', source: '.secret$' }]);
    assert.deepEqual(parsed.value.warnings, []);
  });
  it('a bad diff limit is an error with its line', () => {
    const text = '<ossec_config><syscheck>\n<diff>\n<disk_quota><limit>lots</limit></disk_quota>\n</diff>\n</syscheck></ossec_config>';
    const parsed = parseOssecConfig(text, 'ossec.conf', defaults);
    assert.ok(!parsed.ok);
    assert.deepEqual(
      parsed.error.map((i) => `${i.line}:${i.key}`),
      ['3:syscheck.diff.disk_quota'],
    );
  });
  it('names every tag and attribute it does not support, with its line', () => {
    assert.ok(r.ok);
    const warnings = r.value.warnings.map((w) => `${w.line}:${w.key}`);
    assert.ok(!warnings.some((w) => w.includes('global')), 'email settings are read, not warned about');
    assert.ok(warnings.includes('20:syscheck.prefilter_cmd'), warnings.join(' '));
    assert.ok(warnings.includes('25:syscheck.directories[4].whodata'), warnings.join(' '));
    // report_changes and nodiff are in effect (content diffs): not warned about.
    assert.ok(!warnings.some((w) => w.includes('report_changes') || w.includes('nodiff')), warnings.join(' '));
  });
  it('reports invalid values with their line', () => {
    const bad = `<ossec_config>\n<syscheck>\n<frequency>sometimes</frequency>\n<directories check_all="perhaps">/etc</directories>\n<directories>relative/path</directories>\n</syscheck>\n</ossec_config>`;
    const result = parseOssecConfig(bad, 'ossec.conf', defaults);
    assert.ok(!result.ok);
    assert.deepEqual(
      result.error.map((i) => `${i.line}:${i.key}`).sort(),
      ['3:syscheck.frequency', '4:syscheck.directories[0].check_all', '5:syscheck.directories[1].path[0]'].sort(),
    );
  });
  it('reads scan_time and scan_day, and refuses invalid ones with their line', () => {
    const good = parseOssecConfig(
      '<ossec_config>\n<syscheck>\n<scan_time>10pm</scan_time>\n<scan_day>!sunday</scan_day>\n</syscheck>\n</ossec_config>',
      'ossec.conf',
      defaults,
    );
    assert.ok(good.ok, JSON.stringify(!good.ok && good.error));
    assert.equal(good.value.config.syscheck.scanTime, '10pm');
    assert.equal(good.value.config.syscheck.scanDay, '!sunday');
    const bad = parseOssecConfig(
      '<ossec_config>\n<syscheck>\n<scan_time>25:00</scan_time>\n<scan_day>funday</scan_day>\n</syscheck>\n</ossec_config>',
      '/var/ossec/etc/ossec.conf',
      defaults,
    );
    assert.ok(!bad.ok);
    assert.deepEqual(bad.error.map((i) => `${i.file}:${i.line}:${i.key}`).sort(), [
      '/var/ossec/etc/ossec.conf:3:syscheck.scan_time',
      '/var/ossec/etc/ossec.conf:4:syscheck.scan_day',
    ]);
    assert.match(bad.error.find((i) => i.key === 'syscheck.scan_day')?.message ?? '', /"funday" is not a day/);
  });
  it('reads every scan_time and scan_day form OSSEC documents', () => {
    for (const [time, day] of [
      ['21pm', 'monday'],
      ['9:30am', 'mon,wed'],
      ['10:00', 'weekdays'],
      ['8:30', 'saturday sunday'],
    ]) {
      const r = parseOssecConfig(
        `<ossec_config><syscheck><scan_time>${time}</scan_time><scan_day>${day}</scan_day></syscheck></ossec_config>`,
        'ossec.conf',
        defaults,
      );
      assert.ok(r.ok, `${time} ${day}: ${JSON.stringify(!r.ok && r.error)}`);
      assert.equal(r.value.config.syscheck.scanTime, time);
    }
  });
  it("reads OSSEC's md5 allowlist from <global> under each of its names", () => {
    for (const tag of ['md5_whitelist', 'md5_allowlist', 'md5db']) {
      const r2 = parseOssecConfig(
        `<ossec_config>\n<global>\n<${tag}>/var/ossec/etc/md5.db</${tag}>\n</global>\n</ossec_config>`,
        '/var/ossec/etc/ossec.conf',
        defaults,
      );
      assert.ok(r2.ok, JSON.stringify(!r2.ok && r2.error));
      assert.equal(r2.value.config.knownHashes.md5AllowlistPath, '/var/ossec/etc/md5.db', tag);
      assert.deepEqual(r2.value.warnings, [], tag);
    }
  });
  it('finds rules as OSSEC and Wazuh do, from the install root above etc/', () => {
    const conf = [
      '<ossec_config>',
      '<rules><include>local_rules.xml</include></rules>',
      '<ruleset>',
      '<decoder_dir>ruleset/decoders</decoder_dir>',
      '<rule_dir>ruleset/rules</rule_dir>',
      '<rule_exclude>ruleset/rules/0215-policy_rules.xml</rule_exclude>',
      '<list>etc/lists/audit-keys</list>',
      '<rule_dir>etc/rules</rule_dir>',
      '<rule_include>/opt/extra/rules.xml</rule_include>',
      '<rule_include>etc/more/extra.xml</rule_include>',
      '<decoder_typo>x</decoder_typo>',
      '</ruleset>',
      '</ossec_config>',
    ].join('\n');
    const wazuh = parseOssecConfig(conf, '/var/ossec/etc/ossec.conf', defaults);
    assert.ok(wazuh.ok, JSON.stringify(!wazuh.ok && wazuh.error));
    assert.deepEqual(wazuh.value.config.rules, {
      files: ['/var/ossec/etc/local_rules.xml', '/opt/extra/rules.xml', '/var/ossec/etc/more/extra.xml'],
      directories: ['/var/ossec/ruleset/rules', '/var/ossec/etc/rules'],
      exclude: ['0215-policy_rules.xml'],
    });
    assert.deepEqual(
      wazuh.value.warnings.map((w) => `${w.line}:${w.key}`),
      ['11:ruleset.decoder_typo'],
    );
    // Not in an etc/ directory: no install root, relative names stay relative to the configuration.
    const elsewhere = parseOssecConfig(conf, '/srv/conf/ossec.conf', defaults);
    assert.ok(elsewhere.ok);
    assert.deepEqual(elsewhere.value.config.rules.directories, ['/srv/conf/ruleset/rules', '/srv/conf/etc/rules']);
  });
  it('reads <disabled>: off when yes, on by default', () => {
    const off = parseOssecConfig(
      '<ossec_config>\n<syscheck>\n<disabled>yes</disabled>\n<directories>/etc</directories>\n</syscheck>\n</ossec_config>',
      'ossec.conf',
      defaults,
    );
    assert.ok(off.ok, JSON.stringify(!off.ok && off.error));
    assert.equal(off.value.config.syscheck.disabled, true);
    assert.deepEqual(off.value.warnings, [], 'disabled is read, not warned about');
    assert.ok(r.ok);
    assert.equal(r.value.config.syscheck.disabled, false);
    const bad = parseOssecConfig('<ossec_config>\n<syscheck>\n<disabled>maybe</disabled>\n</syscheck>\n</ossec_config>', 'ossec.conf', defaults);
    assert.ok(!bad.ok);
    assert.deepEqual(
      bad.error.map((i) => `${i.line}:${i.key}`),
      ['3:syscheck.disabled'],
    );
  });
  it('skips Windows paths and registry keys in a Linux config, one warning each, and loads the rest', () => {
    const mixed = [
      '<ossec_config>',
      '<syscheck>',
      '<directories check_all="yes">/etc,/usr/bin</directories>',
      '<directories check_all="yes">%WINDIR%/win.ini,C:\\autoexec.bat</directories>',
      '<directories check_all="yes">C:\\Windows/System32,/sbin</directories>',
      '<ignore>/etc/mtab</ignore>',
      '<ignore>C:\\WINDOWS/System32/LogFiles</ignore>',
      '<ignore>%WINDIR%/SoftwareDistribution</ignore>',
      '<windows_registry>HKEY_LOCAL_MACHINE\\Software\\Classes\\batfile</windows_registry>',
      '<registry_ignore>HKEY_LOCAL_MACHINE\\Security\\SAM\\Domains</registry_ignore>',
      '</syscheck>',
      '</ossec_config>',
    ].join('\n');
    const result = parseOssecConfig(mixed, '/var/ossec/etc/ossec.conf', defaults);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.error));
    assert.deepEqual(
      result.value.config.syscheck.directories.map((d) => d.path),
      ['/etc', '/usr/bin', '/sbin'],
    );
    assert.deepEqual(result.value.config.syscheck.ignore, [{ kind: 'path', source: '/etc/mtab' }]);
    const warnings = result.value.warnings.map((w) => `${w.line}:${w.message}`);
    assert.deepEqual(warnings, [
      '4:Windows path "%WINDIR%/win.ini" skipped: it cannot exist on Linux',
      '4:Windows path "C:\\autoexec.bat" skipped: it cannot exist on Linux',
      '5:Windows path "C:\\Windows/System32" skipped: it cannot exist on Linux',
      '7:Windows path "C:\\WINDOWS/System32/LogFiles" skipped: it cannot exist on Linux',
      '8:Windows path "%WINDIR%/SoftwareDistribution" skipped: it cannot exist on Linux',
      '9:Windows registry key "HKEY_LOCAL_MACHINE\\Software\\Classes\\batfile" skipped: there is no registry on Linux',
      '10:Windows registry key "HKEY_LOCAL_MACHINE\\Security\\SAM\\Domains" skipped: there is no registry on Linux',
    ]);
  });
  it('reports malformed XML with its line', () => {
    const result = parseOssecConfig('<ossec_config>\n<syscheck>\n<frequency>1</frequenc>\n</syscheck></ossec_config>', 'ossec.conf', defaults);
    assert.ok(!result.ok);
    assert.equal(result.error[0]?.line, 3);
  });
});
