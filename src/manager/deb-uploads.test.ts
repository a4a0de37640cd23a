import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { buildDeb, clearSign, makeSigningKey } from '../../test/support/debian-packages.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { SqliteKnownHashStore } from '../hashdb/sqlite-known-hash-store.js';
import { DebVerifier } from './deb-uploads.js';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

// A real signed repository (gpg, InRelease, Packages) and real .debs built with dpkg-deb; the verifier receives
// them as the manager does, from a stream.
describe('DebVerifier: .debs uploaded by agents, verified against the signed indexes the manager pins', () => {
  const dir = tempDir();
  let listed = '';
  let trojaned = '';
  let unlisted = '';
  let keyring = '';

  before(() => {
    listed = buildDeb(join(dir, 'a'), { name: 'custos-up', version: '1.0', files: [{ path: 'usr/bin/up-tool', content: 'the real tool\n', mode: 0o755 }] });
    // The same name and version, other bytes: what a compromised mirror or host would install.
    trojaned = buildDeb(join(dir, 'b'), { name: 'custos-up', version: '1.0', files: [{ path: 'usr/bin/up-tool', content: 'a trojan\n', mode: 0o755 }] });
    unlisted = buildDeb(join(dir, 'c'), { name: 'custos-local', version: '1', files: [{ path: 'usr/bin/local-tool', content: 'local\n' }] });
    let home = '';
    ({ home, keyring } = makeSigningKey(dir));
    const data = readFileSync(listed);
    const packages = `Package: custos-up\nVersion: 1.0\nArchitecture: all\nFilename: pool/c/custos-up_1.0_all.deb\nSize: ${data.length}\nSHA256: ${sha256(data)}\n\n`;
    const suite = join(dir, 'repo/dists/testing');
    mkdirSync(join(suite, 'main/binary-amd64'), { recursive: true });
    writeFileSync(join(suite, 'main/binary-amd64/Packages'), packages);
    const release = [
      'Origin: Custos Test',
      'Suite: testing',
      `Date: ${new Date().toUTCString()}`,
      'Architectures: amd64',
      'Components: main',
      'SHA256:',
      ` ${sha256(packages)} ${Buffer.byteLength(packages)} main/binary-amd64/Packages`,
      '',
    ].join('\n');
    writeFileSync(join(suite, 'InRelease'), clearSign(home, release));
  });

  const open = (name: string, maxBytes = 1 << 20) => {
    const store = SqliteKnownHashStore.open(join(dir, `${name}.sqlite`));
    const incomingDir = join(dir, `${name}-incoming`);
    return { store, incomingDir, verifier: new DebVerifier({ aptLists: join(dir, 'repo'), keyring, incomingDir, maxBytes }, store) };
  };
  const upload = (file: string) => Readable.from([readFileSync(file)]);

  it('imports a listed .deb as deb-verified, once, and leaves nothing in the incoming directory', async () => {
    const { store, verifier, incomingDir } = open('listed');
    const outcome = await verifier.receive(sha256(readFileSync(listed)), upload(listed));
    assert.deepEqual(outcome, { status: 'verified', package: 'custos-up 1.0 all' });
    const evidence = await store.lookup(Buffer.from('/usr/bin/up-tool'), { sha256: sha256('the real tool\n') });
    assert.deepEqual(
      evidence.atPath.map((e) => e.source.kind),
      ['deb-verified'],
    );
    assert.deepEqual(readdirSync(incomingDir), []);
    assert.deepEqual(await store.debVerdict(sha256(readFileSync(listed))), { verdict: 'verified', package: 'custos-up 1.0 all' });
    await store.close();
  });

  it('refuses the same name and version with other bytes, and a package no index lists; imports nothing of them', async () => {
    const { store, verifier } = open('refused');
    // Its hash is not in the index, so it is refused before a byte of it is parsed.
    const trojan = await verifier.receive(sha256(readFileSync(trojaned)), upload(trojaned), 'custos-up 1.0 all');
    assert.deepEqual(trojan, {
      status: 'refused',
      package: 'custos-up 1.0 all (as the agent named it)',
      reason: `the file (SHA-256 ${sha256(readFileSync(trojaned))}, ${readFileSync(trojaned).length} bytes) is not listed in any verified index; not parsed`,
    });
    const local = await verifier.receive(sha256(readFileSync(unlisted)), upload(unlisted));
    assert.match(local.status === 'refused' ? local.reason : '', /not listed in any verified index/);
    assert.deepEqual((await store.lookup(Buffer.from('/usr/bin/up-tool'), { sha256: sha256('a trojan\n') })).atPath, []);
    assert.equal((await store.stats()).debs.refused, 2);
    await store.close();
  });

  it('turns away an upload that is not the .deb offered, or larger than allowed', async () => {
    const { store, verifier, incomingDir } = open('bad', 4096);
    const wrong = await verifier.receive('0'.repeat(64), upload(listed));
    assert.equal(wrong.status, 'bad-upload');
    const big = await verifier.receive(sha256(Buffer.alloc(8192)), Readable.from([Buffer.alloc(8192)]));
    assert.deepEqual(big, { status: 'bad-upload', reason: 'larger than the 4096 bytes a .deb may be' });
    assert.deepEqual(readdirSync(incomingDir), []);
    assert.equal(await store.debVerdict('0'.repeat(64)), undefined, 'nothing recorded for a bad upload');
    await store.close();
  });
});
