import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { describe, it } from 'node:test';
import { brotliCompressSync } from 'node:zlib';
import { decodeContent, encodeContent, MAX_BATCH_CONTENT_BYTES, MAX_WIRE_CONTENT_BYTES, WireContent } from './content-wire.js';
import { DecodeError } from './decode-error.js';
import { BatchRequest } from './wire.js';

const sha = (b: Buffer): string => hash('sha256', b, 'hex');

describe('report_changes content on the wire', () => {
  const bytes = Buffer.from('listen 443\nworkers 4\n'.repeat(100));

  it('round-trips content, compressed', () => {
    const wire = encodeContent({ kind: 'bytes', bytes, sha256: sha(bytes) });
    assert.ok(WireContent.safeParse(wire).success);
    assert.ok('z' in wire && wire.z.length < bytes.length / 4);
    assert.deepEqual(decodeContent(wire, sha(bytes)), { kind: 'bytes', bytes, sha256: sha(bytes) });
  });

  it('carries the reason when there is no content', () => {
    const wire = encodeContent({ kind: 'none', reason: 'nodiff', detail: '/etc/shadow' });
    assert.deepEqual(wire, { r: 'nodiff', t: '/etc/shadow' });
    assert.deepEqual(decodeContent(wire, undefined), { kind: 'none', reason: 'nodiff', detail: '/etc/shadow' });
  });

  it("carries the limit an agent applied to a file over it (the manager's own may differ)", () => {
    const wire = encodeContent({ kind: 'none', reason: 'too-large', detail: '5000 bytes', limitBytes: 4096 });
    assert.deepEqual(wire, { r: 'too-large', t: '5000 bytes', l: 4096 });
    assert.ok(WireContent.safeParse(wire).success);
    assert.deepEqual(decodeContent(wire, undefined), { kind: 'none', reason: 'too-large', detail: '5000 bytes', limitBytes: 4096 });
    assert.equal(WireContent.safeParse({ r: 'too-large', l: -1 }).success, false);
  });

  const refusals: [string, WireContent, string | undefined, RegExp][] = [
    ['garbage that is not brotli', { z: Buffer.from('not brotli at all').toString('base64'), n: 17, h: sha(bytes) }, undefined, /not valid brotli data/],
    [
      'a bomb that inflates past its declared size',
      { z: brotliCompressSync(Buffer.alloc(10 << 20)).toString('base64'), n: 1000, h: sha(bytes) },
      undefined,
      /inflates past its declared 1000 bytes/,
    ],
    [
      'content whose digest is not the one declared',
      { z: brotliCompressSync(bytes).toString('base64'), n: bytes.length, h: 'a'.repeat(64) },
      undefined,
      /does not match its sha256/,
    ],
    [
      'content that is not the version the state describes',
      { z: brotliCompressSync(bytes).toString('base64'), n: bytes.length, h: sha(bytes) },
      'b'.repeat(64),
      /does not match the file state's sha256/,
    ],
  ];
  for (const [name, wire, stateSha, message] of refusals) {
    it(`refuses ${name}`, () =>
      assert.throws(
        () => decodeContent(wire, stateSha),
        (e: unknown) => e instanceof DecodeError && message.test(e.message),
      ));
  }

  it('refuses oversized content and batches before anything is inflated', () => {
    assert.equal(WireContent.safeParse({ z: 'A'.repeat(8 << 20), n: 10, h: sha(bytes) }).success, false);
    assert.equal(WireContent.safeParse({ z: 'AAAA', n: MAX_WIRE_CONTENT_BYTES + 1, h: sha(bytes) }).success, false);
    const observation = (i: number): unknown => ({
      p: Buffer.from(`/etc/f${i}`).toString('base64'),
      c: 0,
      d: { z: 'AAAA', n: MAX_WIRE_CONTENT_BYTES, h: sha(bytes) },
    });
    const batch = (count: number): unknown => ({ agentId: '001', seq: 1, observations: Array.from({ length: count }, (_, i) => observation(i)) });
    assert.equal(BatchRequest.safeParse(batch(MAX_BATCH_CONTENT_BYTES / MAX_WIRE_CONTENT_BYTES)).success, true);
    const tooMuch = BatchRequest.safeParse(batch(MAX_BATCH_CONTENT_BYTES / MAX_WIRE_CONTENT_BYTES + 1));
    assert.equal(tooMuch.success, false);
    assert.match(JSON.stringify(tooMuch.error?.issues), /the content in one batch is at most/);
  });
});
