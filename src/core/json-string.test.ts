import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonString } from './json-string.js';

describe('jsonString', () => {
  it('writes exactly what JSON.stringify writes, escapes included', () => {
    const samples = [
      '',
      'root',
      'd41d8cd98f00b204e9800998ecf8427e',
      'a"b',
      'a\\b',
      'tab\there',
      'line\nbreak',
      '\u0000',
      '\u001f',
      '\u007f',
      'é',
      '\u2028\u2029',
      '😀',
      '\ud800',
      'x\udfffy',
      '</script>',
    ];
    for (const text of samples) assert.equal(jsonString(text), JSON.stringify(text), JSON.stringify(text));
    // Every single UTF-16 code unit, alone and between plain characters.
    for (let code = 0; code < 0x10000; code++) {
      const text = `a${String.fromCharCode(code)}b`;
      assert.equal(jsonString(text), JSON.stringify(text));
    }
  });
});
