import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { openSqlite, SchemaTooNewError, type SqliteDatabaseKind } from './open-sqlite.js';

const dir = tempDir();
let n = 0;
const fresh = (): string => join(dir, `db-${n++}`, 'x.sqlite');

const kind = (migrations: readonly string[], claim?: SqliteDatabaseKind['claim']): SqliteDatabaseKind => ({
  name: 'the test database',
  fileMode: 0o600,
  pragmas: ['journal_mode = WAL'],
  ...(claim === undefined ? {} : { claim }),
  migrations,
});

describe('openSqlite: one way to open every Custos SQLite file', () => {
  it('creates the file and its directory with the mode asked, runs the pragmas and every migration, and records the version', () => {
    const path = fresh();
    const db = openSqlite(path, kind(['CREATE TABLE a (x)', 'ALTER TABLE a ADD COLUMN y']));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    db.prepare('INSERT INTO a (x, y) VALUES (1, 2)').run();
    db.close();
  });

  it('runs only the migrations a database lacks, keeping its rows', () => {
    const path = fresh();
    openSqlite(path, kind(['CREATE TABLE a (x)']))
      .prepare('INSERT INTO a VALUES (7)')
      .run();
    const db = openSqlite(path, kind(['CREATE TABLE a (x)', 'CREATE TABLE b (y)']));
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    assert.equal(db.prepare('SELECT x FROM a').pluck().get(), 7);
    db.close();
  });

  it('refuses a database written by a newer schema, without touching it', () => {
    const path = fresh();
    openSqlite(path, kind(['CREATE TABLE a (x)', 'CREATE TABLE b (y)'])).close();
    assert.throws(
      () => openSqlite(path, kind(['CREATE TABLE a (x)'])),
      (e: unknown) => e instanceof SchemaTooNewError && /schema 2, this one knows 1/.test(e.message),
    );
    const raw = new Database(path);
    assert.equal(raw.pragma('user_version', { simple: true }), 2);
    raw.close();
  });

  it('rolls a failing migration back whole, with its version, and closes', () => {
    const path = fresh();
    assert.throws(() => openSqlite(path, kind(['CREATE TABLE a (x)', 'CREATE TABLE b (y); CREATE TABLE a (z)'])), /already exists/);
    const raw = new Database(path);
    assert.equal(raw.pragma('user_version', { simple: true }), 1, 'the first migration stands, the second left no trace');
    assert.deepEqual(raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all(), ['a']);
    raw.close();
  });

  it('lets the kind refuse a file before any migration runs', () => {
    const path = fresh();
    assert.throws(
      () =>
        openSqlite(
          path,
          kind(['CREATE TABLE a (x)'], () => {
            throw new Error('not ours');
          }),
        ),
      /not ours/,
    );
    const raw = new Database(path);
    assert.equal(raw.pragma('user_version', { simple: true }), 0);
    raw.close();
  });
});
