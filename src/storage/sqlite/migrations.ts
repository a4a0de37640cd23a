/**
 * The SQLite schema, as an ordered list of migrations; `PRAGMA user_version` records how many have run.
 * Never edit a migration that has shipped: append a new one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  );

  -- One row per monitored entry. path_key is the path with every '/' stored as NUL, so that key order is the
  -- walker's depth-first order (see pathKey); the path is the key with NUL turned back into '/'.
  CREATE TABLE baseline (
    agent_id TEXT NOT NULL,
    path_key BLOB NOT NULL,
    type TEXT NOT NULL,
    size INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    gid INTEGER NOT NULL,
    uname TEXT,
    gname TEXT,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    dev INTEGER NOT NULL,
    nlink INTEGER NOT NULL,
    link_target BLOB,
    md5 TEXT,
    sha1 TEXT,
    sha256 TEXT,
    issues TEXT,
    -- storedFingerprint(state): what an unchanged scan compares against, without reading the other columns.
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (agent_id, path_key)
  ) WITHOUT ROWID;

  -- The append-only history. data is the exact text that was hashed; hash = sha256(prev_hash || '\\n' || data).
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    path_key BLOB NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX events_by_agent ON events (agent_id, id);
  CREATE INDEX events_by_path ON events (agent_id, path_key);
  CREATE INDEX events_by_time ON events (ts);
  CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
  CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;

  -- The end of each agent's chain, moved in the same transaction as each append: a truncated history shows.
  CREATE TABLE chain_heads (
    agent_id TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    length INTEGER NOT NULL
  );

  -- An alert points at the history record it was raised for; its JSON is rebuilt from that record, so the
  -- alert and the chained history can never disagree.
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    ts TEXT NOT NULL,
    rule_id INTEGER NOT NULL,
    level INTEGER NOT NULL
  );
  CREATE INDEX alerts_by_agent ON alerts (agent_id, ts);
  CREATE INDEX alerts_by_time ON alerts (ts);

  CREATE TABLE scanned_roots (
    agent_id TEXT NOT NULL,
    path BLOB NOT NULL,
    first_scan_at TEXT NOT NULL,
    PRIMARY KEY (agent_id, path)
  ) WITHOUT ROWID;

  CREATE TABLE agent_meta (
    agent_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (agent_id, key)
  ) WITHOUT ROWID;
  `,
  `
  -- Windows in which changes are accepted without alerts (custos maintenance). agent_id NULL: every agent.
  CREATE TABLE maintenance (
    id INTEGER PRIMARY KEY,
    agent_id TEXT,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    started_by TEXT NOT NULL,
    reason TEXT,
    ended_at TEXT
  );

  -- Auto-ignore counters: how often each file changed in its current window, and what was rolled up.
  CREATE TABLE noise (
    agent_id TEXT NOT NULL,
    path_key BLOB NOT NULL,
    window_start_ms INTEGER NOT NULL,
    changes INTEGER NOT NULL,
    rolled_up INTEGER NOT NULL,
    PRIMARY KEY (agent_id, path_key)
  ) WITHOUT ROWID;
  `,
  `
  -- Fleet mode. Agents get a certificate at enrollment; revoked ones are refused.
  ALTER TABLE agents ADD COLUMN revoked_at TEXT;
  ALTER TABLE agents ADD COLUMN cert_sha256 TEXT;
  ALTER TABLE agents ADD COLUMN last_seen TEXT;
  ALTER TABLE agents ADD COLUMN silent_since TEXT;
  -- The group whose central configuration the agent gets (DATA/shared/groups/<group>.yml).
  ALTER TABLE agents ADD COLUMN group_name TEXT;

  -- The highest batch sequence applied per agent: a batch is applied exactly once, in order.
  CREATE TABLE agent_sequences (agent_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);

  -- Single-use enrollment tokens; only a hash of the secret is kept.
  CREATE TABLE enrollment_tokens (
    id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_by TEXT
  );

  -- Alerts about agents rather than files (silent, back, out of sync, outbox overflow).
  CREATE TABLE agent_alerts (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, ts TEXT NOT NULL, rule_id INTEGER NOT NULL, level INTEGER NOT NULL, json TEXT NOT NULL);
  CREATE INDEX agent_alerts_by_time ON agent_alerts (ts);

  -- Paths seen during an agent's full (resync) scan, to find what its baseline holds that the agent no longer has.
  CREATE TABLE resync_seen (agent_id TEXT NOT NULL, path_key BLOB NOT NULL, PRIMARY KEY (agent_id, path_key)) WITHOUT ROWID;
  `,
  `
  -- Alerts committed but not yet handed to every sink (alerts.json, alerts.log, syslog, webhook), in the order
  -- they were raised. A row is written in the alert's own transaction and deleted once the sinks have it, so a
  -- crash in between is repaired at the next start instead of losing the alert. Older alerts were delivered.
  CREATE TABLE alert_outbox (alert_id TEXT PRIMARY KEY, agent_alert INTEGER NOT NULL);
  `,
  `
  -- The email queue: each alert to mail, once per route (a set of recipients and OSSEC's grouping flags), written
  -- when the alert is handed to the email sink and kept after it is sent (sent_mail set), so a redelivered alert
  -- is never queued twice. Sent rows are pruned after 30 days.
  CREATE TABLE email_queue (
    seq INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL,
    route TEXT NOT NULL,
    alert TEXT NOT NULL,
    queued_ms INTEGER NOT NULL,
    sent_mail TEXT,
    UNIQUE (alert_id, route)
  );
  CREATE INDEX email_queue_pending ON email_queue (seq) WHERE sent_mail IS NULL;
  -- Messages handed to the SMTP server (or refused by it for good): email_maxperhour counts these.
  CREATE TABLE email_sent (mail_id TEXT PRIMARY KEY, sent_ms INTEGER NOT NULL, alerts INTEGER NOT NULL, outcome TEXT NOT NULL);
  CREATE INDEX email_sent_by_time ON email_sent (sent_ms);
  `,
  `
  -- Fleet continuity. The SHA-256 of each agent's last applied batch: a batch is refused as a replay only when it
  -- is provably that same batch; anything else numbered at or below it means the agent lost or rolled back its state.
  ALTER TABLE agent_sequences ADD COLUMN batch_sha256 TEXT;
  -- SHA-256 of the host's machine id, sent at enrolment: the same host enrolling again keeps its identity.
  ALTER TABLE agents ADD COLUMN machine_id TEXT;
  -- Revocations are alerted once (rule 570) by the manager; those made before this version are not news.
  INSERT OR IGNORE INTO agent_meta (agent_id, key, value) SELECT id, 'revocation_announced', revoked_at FROM agents WHERE revoked_at IS NOT NULL;
  `,
  `
  -- Capabilities, ACLs, SELinux label, other extended attributes and inode flags of each entry, as the JSON object
  -- of short keys that file states use on the wire (NULL: not read, e.g. a row from before this column).
  ALTER TABLE baseline ADD COLUMN attributes TEXT;
  `,
  `
  -- What each agent stores, for the manager's per-agent quota: baseline rows and their variable-length bytes,
  -- history records and their bytes. Kept by triggers, in the same transaction as the rows, so it never drifts.
  CREATE TABLE agent_usage (
    agent_id TEXT PRIMARY KEY,
    baseline_entries INTEGER NOT NULL DEFAULT 0,
    baseline_bytes INTEGER NOT NULL DEFAULT 0,
    history_records INTEGER NOT NULL DEFAULT 0,
    history_bytes INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO agent_usage (agent_id, baseline_entries, baseline_bytes)
    SELECT agent_id, count(*), sum(length(baseline.path_key) + length(baseline.fingerprint) + ifnull(length(baseline.attributes), 0) + ifnull(length(baseline.issues), 0) + ifnull(length(baseline.link_target), 0) + ifnull(length(baseline.uname), 0) + ifnull(length(baseline.gname), 0) + ifnull(length(baseline.md5), 0) + ifnull(length(baseline.sha1), 0) + ifnull(length(baseline.sha256), 0)) FROM baseline GROUP BY agent_id;
  INSERT INTO agent_usage (agent_id, history_records, history_bytes)
    SELECT agent_id, count(*), sum(length(data)) FROM events GROUP BY agent_id
    ON CONFLICT (agent_id) DO UPDATE SET history_records = excluded.history_records, history_bytes = excluded.history_bytes;
  CREATE TRIGGER agent_usage_baseline_insert AFTER INSERT ON baseline BEGIN
    INSERT INTO agent_usage (agent_id, baseline_entries, baseline_bytes) VALUES (NEW.agent_id, 1, length(NEW.path_key) + length(NEW.fingerprint) + ifnull(length(NEW.attributes), 0) + ifnull(length(NEW.issues), 0) + ifnull(length(NEW.link_target), 0) + ifnull(length(NEW.uname), 0) + ifnull(length(NEW.gname), 0) + ifnull(length(NEW.md5), 0) + ifnull(length(NEW.sha1), 0) + ifnull(length(NEW.sha256), 0))
    ON CONFLICT (agent_id) DO UPDATE SET baseline_entries = baseline_entries + 1, baseline_bytes = baseline_bytes + excluded.baseline_bytes;
  END;
  CREATE TRIGGER agent_usage_baseline_update AFTER UPDATE ON baseline BEGIN
    UPDATE agent_usage SET baseline_bytes = baseline_bytes + (length(NEW.path_key) + length(NEW.fingerprint) + ifnull(length(NEW.attributes), 0) + ifnull(length(NEW.issues), 0) + ifnull(length(NEW.link_target), 0) + ifnull(length(NEW.uname), 0) + ifnull(length(NEW.gname), 0) + ifnull(length(NEW.md5), 0) + ifnull(length(NEW.sha1), 0) + ifnull(length(NEW.sha256), 0)) - (length(OLD.path_key) + length(OLD.fingerprint) + ifnull(length(OLD.attributes), 0) + ifnull(length(OLD.issues), 0) + ifnull(length(OLD.link_target), 0) + ifnull(length(OLD.uname), 0) + ifnull(length(OLD.gname), 0) + ifnull(length(OLD.md5), 0) + ifnull(length(OLD.sha1), 0) + ifnull(length(OLD.sha256), 0)) WHERE agent_id = NEW.agent_id;
  END;
  CREATE TRIGGER agent_usage_baseline_delete AFTER DELETE ON baseline BEGIN
    UPDATE agent_usage SET baseline_entries = baseline_entries - 1, baseline_bytes = baseline_bytes - (length(OLD.path_key) + length(OLD.fingerprint) + ifnull(length(OLD.attributes), 0) + ifnull(length(OLD.issues), 0) + ifnull(length(OLD.link_target), 0) + ifnull(length(OLD.uname), 0) + ifnull(length(OLD.gname), 0) + ifnull(length(OLD.md5), 0) + ifnull(length(OLD.sha1), 0) + ifnull(length(OLD.sha256), 0)) WHERE agent_id = OLD.agent_id;
  END;
  CREATE TRIGGER agent_usage_history_insert AFTER INSERT ON events BEGIN
    INSERT INTO agent_usage (agent_id, history_records, history_bytes) VALUES (NEW.agent_id, 1, length(NEW.data))
    ON CONFLICT (agent_id) DO UPDATE SET history_records = history_records + 1, history_bytes = history_bytes + excluded.history_bytes;
  END;
  -- The web console (src/manager/console): local accounts (scrypt hashes with their own salt), sessions (only the
  -- SHA-256 of the cookie's token is kept), failed sign-ins per name (delay and lockout), the audit log of every
  -- console action, and alert acknowledgements. Alerts themselves are untouched: an acknowledgement is a row here.
  CREATE TABLE console_users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE console_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    last_used_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
  );
  CREATE INDEX console_sessions_by_user ON console_sessions (user_name);
  CREATE TABLE console_login_failures (
    user_name TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_ms INTEGER NOT NULL,
    locked_until_ms INTEGER NOT NULL
  );
  CREATE TABLE console_audit (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    remote TEXT,
    details TEXT
  );
  CREATE TABLE console_acks (
    alert_id TEXT PRIMARY KEY,
    acked_by TEXT NOT NULL,
    acked_at TEXT NOT NULL,
    note TEXT
  );
  -- The console pages alerts newest first by (ts, id) and by agent; these make each page an index range.
  CREATE INDEX alerts_console_time ON alerts (ts, id);
  CREATE INDEX alerts_console_agent ON alerts (agent_id, ts, id);
  CREATE INDEX agent_alerts_console_time ON agent_alerts (ts, id);
  `,
  `
  -- Fleet search in the console: "which hosts have this digest?" is a range of one of these (partial: entries
  -- without content have no digest), "which hosts differ at this path?" a range of baseline_by_path (its entries
  -- carry the primary key, so they come by agent).
  CREATE INDEX baseline_by_sha256 ON baseline (sha256) WHERE sha256 IS NOT NULL;
  CREATE INDEX baseline_by_sha1 ON baseline (sha1) WHERE sha1 IS NOT NULL;
  CREATE INDEX baseline_by_md5 ON baseline (md5) WHERE md5 IS NOT NULL;
  CREATE INDEX baseline_by_path ON baseline (path_key);
  `,
  `
  -- The fleet overview's aggregates, kept by triggers in the same transaction as the alerts, the history and the
  -- acknowledgements they count, so the overview reads a few summary rows instead of every alert (1M alerts: seconds).
  -- Open (unacknowledged) alerts per agent and level. Alerts and acknowledgements are never deleted.
  CREATE TABLE alert_open_counts (agent_id TEXT NOT NULL, level INTEGER NOT NULL, open INTEGER NOT NULL, PRIMARY KEY (agent_id, level)) WITHOUT ROWID;
  -- Alerts per hour ('2026-11-30T01', the first 13 characters of their ts) and level.
  CREATE TABLE alert_hours (hour TEXT NOT NULL, level INTEGER NOT NULL, alerts INTEGER NOT NULL, PRIMARY KEY (hour, level)) WITHOUT ROWID;
  -- History records per path and day, and per path and hour for the last two days only (the 24-hour view reads
  -- whole hours from it; older hours are dropped as new records arrive).
  CREATE TABLE path_change_days (day TEXT NOT NULL, agent_id TEXT NOT NULL, path_key BLOB NOT NULL, changes INTEGER NOT NULL, PRIMARY KEY (day, agent_id, path_key)) WITHOUT ROWID;
  CREATE TABLE path_change_hours (hour TEXT NOT NULL, agent_id TEXT NOT NULL, path_key BLOB NOT NULL, changes INTEGER NOT NULL, PRIMARY KEY (hour, agent_id, path_key)) WITHOUT ROWID;

  INSERT INTO alert_open_counts (agent_id, level, open)
    SELECT agent_id, level, count(*) FROM (SELECT agent_id, level, id FROM alerts UNION ALL SELECT agent_id, level, id FROM agent_alerts) a
    WHERE NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id) GROUP BY agent_id, level;
  INSERT INTO alert_hours (hour, level, alerts)
    SELECT substr(ts, 1, 13), level, count(*) FROM (SELECT ts, level FROM alerts UNION ALL SELECT ts, level FROM agent_alerts) GROUP BY 1, 2;
  INSERT INTO path_change_days (day, agent_id, path_key, changes) SELECT substr(ts, 1, 10), agent_id, path_key, count(*) FROM events GROUP BY 1, 2, 3;
  INSERT INTO path_change_hours (hour, agent_id, path_key, changes)
    SELECT substr(ts, 1, 13), agent_id, path_key, count(*) FROM events WHERE ts >= strftime('%Y-%m-%dT%H', 'now', '-2 days') GROUP BY 1, 2, 3;

  CREATE TRIGGER alert_summaries_file AFTER INSERT ON alerts BEGIN
    INSERT INTO alert_open_counts (agent_id, level, open) VALUES (NEW.agent_id, NEW.level, 1) ON CONFLICT (agent_id, level) DO UPDATE SET open = open + 1;
    INSERT INTO alert_hours (hour, level, alerts) VALUES (substr(NEW.ts, 1, 13), NEW.level, 1) ON CONFLICT (hour, level) DO UPDATE SET alerts = alerts + 1;
  END;
  CREATE TRIGGER alert_summaries_agent AFTER INSERT ON agent_alerts BEGIN
    INSERT INTO alert_open_counts (agent_id, level, open) VALUES (NEW.agent_id, NEW.level, 1) ON CONFLICT (agent_id, level) DO UPDATE SET open = open + 1;
    INSERT INTO alert_hours (hour, level, alerts) VALUES (substr(NEW.ts, 1, 13), NEW.level, 1) ON CONFLICT (hour, level) DO UPDATE SET alerts = alerts + 1;
  END;
  CREATE TRIGGER alert_summaries_ack AFTER INSERT ON console_acks BEGIN
    UPDATE alert_open_counts SET open = open - 1 WHERE (agent_id, level) IN (
      SELECT agent_id, level FROM alerts WHERE id = NEW.alert_id UNION ALL SELECT agent_id, level FROM agent_alerts WHERE id = NEW.alert_id LIMIT 1);
  END;
  CREATE TRIGGER path_change_summaries AFTER INSERT ON events BEGIN
    INSERT INTO path_change_days (day, agent_id, path_key, changes) VALUES (substr(NEW.ts, 1, 10), NEW.agent_id, NEW.path_key, 1)
      ON CONFLICT (day, agent_id, path_key) DO UPDATE SET changes = changes + 1;
    INSERT INTO path_change_hours (hour, agent_id, path_key, changes) VALUES (substr(NEW.ts, 1, 13), NEW.agent_id, NEW.path_key, 1)
      ON CONFLICT (hour, agent_id, path_key) DO UPDATE SET changes = changes + 1;
    -- By the manager's clock, not the record's: an agent whose clock runs ahead must not empty the table.
    DELETE FROM path_change_hours WHERE hour < strftime('%Y-%m-%dT%H', 'now', '-2 days');
  END;
  `,
  `
  -- History retention (see sqlite-history-retention.ts): where each chain it shortened now starts, and the one
  -- door through the append-only trigger: a delete is let through only up to the id the pruner names for an agent,
  -- in the pruner's transaction (which empties the permit again before it commits).
  CREATE TABLE history_anchors (
    agent_id TEXT PRIMARY KEY,
    dropped_records INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    last_ts TEXT NOT NULL,
    last_hash TEXT NOT NULL
  );
  CREATE TABLE history_prune_permit (agent_id TEXT PRIMARY KEY, up_to_id INTEGER NOT NULL);
  DROP TRIGGER events_no_delete;
  CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    WHEN OLD.id > coalesce((SELECT up_to_id FROM history_prune_permit WHERE agent_id = OLD.agent_id), 0)
    BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
  CREATE TRIGGER agent_usage_history_delete AFTER DELETE ON events BEGIN
    UPDATE agent_usage SET history_records = history_records - 1, history_bytes = history_bytes - length(OLD.data) WHERE agent_id = OLD.agent_id;
  END;
  `,
  `
  -- The counters beside the history and the file alerts (path_change_days and _hours, agent_usage's history columns,
  -- alert_open_counts, alert_hours) are added per batch by the writer, in the batch's transaction, instead of row by
  -- row by triggers (src/storage/sqlite/history-summaries.ts): the triggers cost as much as the records themselves.
  DROP TRIGGER path_change_summaries;
  DROP TRIGGER agent_usage_history_insert;
  DROP TRIGGER alert_summaries_file;
  `,
];
