import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDeb822 } from '../../core/deb822.js';
import { parseMd5sums } from '../../host/dpkg-database.js';
import { parseApkInstalled } from './import-apk.js';
import { parseCsvLine } from './import-hash-list.js';
import { parseManifestLine } from './import-manifest.js';

const pkg = { name: 'cmake-data', version: '3.25.1-1', arch: 'all' };

describe('md5sums', () => {
  it('cuts at fixed offsets: paths keep spaces, UTF-8 and invalid bytes; usrmerge applies on merged roots', () => {
    const content = Buffer.concat([
      Buffer.from('b4c7a7395f55099a7dfb29c91a8ee3ca  usr/share/cmake-3.25/Help/generator/NMake Makefiles JOM.rst\n'),
      Buffer.from('22f5bca8ba618e920978c24c4b68d84c  usr/share/ca-certificates/NetLock_Főtanúsítvány.crt\n'),
      Buffer.from('2ba08fece3b3434a669f3c529bbea383  bin/'),
      Buffer.from([0xff]),
      Buffer.from('\nnot a line\n\n'),
    ]);
    const { rows, entries, malformed } = parseMd5sums(content, pkg, true);
    assert.equal(entries, 3);
    assert.equal(malformed, 1);
    assert.equal(rows[0]?.path?.toString(), '/usr/share/cmake-3.25/Help/generator/NMake Makefiles JOM.rst');
    assert.equal(rows[1]?.path?.toString(), '/usr/share/ca-certificates/NetLock_Főtanúsítvány.crt');
    assert.deepEqual(rows[2]?.path, Buffer.concat([Buffer.from('/usr/bin/'), Buffer.from([0xff])]));
    assert.equal(rows[0]?.digest.toString('hex'), 'b4c7a7395f55099a7dfb29c91a8ee3ca');
  });
});

describe('deb822', () => {
  it('reads stanzas with continuation lines (dpkg status Conffiles)', () => {
    const text =
      'Package: adduser\nStatus: install ok installed\nConffiles:\n /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18\n /etc/deluser.conf 11a06baf8245fd8d690b99024d228c1f obsolete\n\nPackage: b\n';
    const [a, b] = [...parseDeb822(text)];
    assert.equal(a?.get('Package'), 'adduser');
    assert.equal(a?.get('Conffiles'), '\n/etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18\n/etc/deluser.conf 11a06baf8245fd8d690b99024d228c1f obsolete');
    assert.equal(b?.get('Package'), 'b');
  });
});

describe('manifests', () => {
  const sha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  it('reads GNU text and binary mode, the escaped form, and BSD style', () => {
    assert.equal(parseManifestLine(Buffer.from(`${sha}  /etc/hosts`))?.path.toString(), '/etc/hosts');
    assert.equal(parseManifestLine(Buffer.from(`${sha} *./bin/x y`))?.path.toString(), './bin/x y');
    assert.equal(parseManifestLine(Buffer.from(`\\${sha}  /tmp/new\\nline\\\\x`))?.path.toString(), '/tmp/new\nline\\x');
    assert.equal(parseManifestLine(Buffer.from(`SHA256 (/etc/passwd) = ${sha}`))?.path.toString(), '/etc/passwd');
    assert.equal(parseManifestLine(Buffer.from('not a manifest line')), undefined);
  });
});

describe('apk installed database', () => {
  it('reads files, directories and their SHA-1 checksums', () => {
    const sha1 = 'bd10a2200b7c064bb13ecf5ab15b4321906430d1';
    const q1 = `Q1${Buffer.from(sha1, 'hex').toString('base64')}`;
    const text = `C:Q1abc=\nP:busybox\nV:1.36.1-r2\nA:x86_64\nF:bin\nR:busybox\nZ:${q1}\nF:etc\nR:securetty\nZ:X1${sha1}\nR:bad\nZ:Q1tooshort\nR:odd\nZ:X1${sha1}c\n\n`;
    const rows = parseApkInstalled(text);
    assert.deepEqual(
      rows.map((r) => [r.path?.toString(), r.digest.toString('hex'), r.package?.name, r.package?.version]),
      [
        ['/bin/busybox', sha1, 'busybox', '1.36.1-r2'],
        ['/etc/securetty', sha1, 'busybox', '1.36.1-r2'],
      ],
    );
  });
});

describe('CSV', () => {
  it('splits quoted fields with embedded commas and quotes', () => {
    assert.deepEqual(parseCsvLine('"2024-01-01","a,b","say ""hi""",plain'), ['2024-01-01', 'a,b', 'say "hi"', 'plain']);
  });
});
