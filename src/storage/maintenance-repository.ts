/** A maintenance window: changes are recorded without alerts between its start and end. */
export interface MaintenanceWindow {
  readonly id: number;
  /** Absent: every agent. */
  readonly agentId?: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly startedBy: string;
  readonly reason?: string;
  /** Set when it was stopped before its end. */
  readonly endedAt?: string;
}

/** Maintenance windows (`custos maintenance`), for one agent or for all. */
export interface MaintenanceRepository {
  startMaintenance(window: Omit<MaintenanceWindow, 'id' | 'endedAt'>): Promise<MaintenanceWindow>;
  /** Ends the windows running at `at` (for one agent, or the global ones); returns how many. */
  endMaintenance(agentId: string | undefined, at: string): Promise<number>;
  /** The window in force for an agent at a time (its own, or a global one), if any. */
  activeMaintenance(agentId: string, at: string): Promise<MaintenanceWindow | undefined>;
  listMaintenance(): Promise<readonly MaintenanceWindow[]>;
}
