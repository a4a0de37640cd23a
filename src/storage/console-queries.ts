import type { EventRecord } from '../core/event-record.js';
import type { AlertAck } from './console-repository.js';
import type { FleetSearchQueries } from './fleet-search-queries.js';

/** Which alerts a console page lists: by acknowledgement. */
export const ALERT_STATUSES = ['open', 'acked', 'all'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** A position in the newest-first alert list: the last alert of the page before. */
export interface AlertCursor {
  readonly ts: string;
  readonly id: string;
}

/** Server-side filters for the alert list; all optional but `limit` and `status`. */
export interface AlertFilter {
  readonly agentId?: string;
  readonly minLevel?: number;
  readonly ruleId?: number;
  /** That path and everything below it (file alerts only). */
  readonly pathPrefix?: Buffer;
  /** ISO 8601, inclusive. */
  readonly since?: string;
  /** ISO 8601, exclusive. */
  readonly until?: string;
  readonly status: AlertStatus;
  readonly limit: number;
  /** Only alerts older than this one (keyset paging). */
  readonly after?: AlertCursor;
}

/** One line of the alert list. `path` is absent for alerts about an agent rather than a file. */
export interface AlertSummary {
  readonly id: string;
  readonly ts: string;
  readonly agentId: string;
  readonly agentName: string;
  readonly ruleId: number;
  readonly level: number;
  readonly description: string;
  /** `added`, `modified`, `deleted` for a file; the agent event (`silent`, `revoked`, ...) otherwise. */
  readonly event?: string;
  readonly path?: Buffer;
  readonly verdict?: string;
  readonly ack?: AlertAck;
}

/** Where the live feed stands: the highest row of each alert table already sent. */
export interface LiveCursor {
  readonly fileSeq: number;
  readonly agentSeq: number;
}

/** One agent as the fleet overview shows it. */
export interface FleetAgent {
  readonly id: string;
  readonly name: string;
  readonly group?: string;
  readonly status: 'online' | 'silent' | 'revoked';
  readonly lastSeen?: string;
  readonly lastScan?: string;
  readonly baselineSize?: number;
  /** Open (unacknowledged) alerts by level. */
  readonly openAlerts: Readonly<Record<string, number>>;
}

/** Alerts per time bucket (an hour `2026-11-30T01` or a day `2026-11-30`) and level. */
export interface AlertBucket {
  readonly bucket: string;
  readonly level: number;
  readonly count: number;
}

/** A path that changed often, on one agent. */
export interface ChangedPath {
  readonly agentId: string;
  readonly path: Buffer;
  readonly changes: number;
}

/** One recorded change of a file, with its alert and acknowledgement when it had them. */
export interface FileHistoryEntry {
  readonly eventId: number;
  readonly record: EventRecord;
  readonly ack?: AlertAck;
}

/** The read side of the console: everything a page shows, each answered by bounded, indexed SQL. */
export interface ConsoleQueries extends FleetSearchQueries {
  listAlerts(filter: AlertFilter): Promise<readonly AlertSummary[]>;
  /** The current end of both alert tables: the live feed starts after it. */
  liveCursor(): Promise<LiveCursor>;
  /** Alerts raised after `cursor`, oldest first, at most `limit`, and the cursor after them. */
  alertsAfter(cursor: LiveCursor, limit: number): Promise<{ readonly alerts: readonly AlertSummary[]; readonly cursor: LiveCursor }>;
  fleetAgents(nowMs: number, silentAfterMs: number): Promise<readonly FleetAgent[]>;
  alertsOverTime(since: string, bucket: 'hour' | 'day'): Promise<readonly AlertBucket[]>;
  mostChangedPaths(since: string, limit: number): Promise<readonly ChangedPath[]>;
  /** A file's recorded changes on one agent, newest first; `beforeEventId` pages on. */
  fileHistory(agentId: string, path: Buffer, limit: number, beforeEventId?: number): Promise<readonly FileHistoryEntry[]>;
  /** The ids of the unacknowledged alerts raised for one file on one agent. */
  openAlertIdsFor(agentId: string, path: Buffer): Promise<readonly string[]>;
}
