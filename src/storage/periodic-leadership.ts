/**
 * Which of several managers sharing one store runs the periodic work (the agent-silent watch, revocation
 * announcements): exactly one at a time, and another takes over when it dies. A manager alone on its store
 * (SQLite) leads always and needs none.
 */
export interface PeriodicLeadership {
  /** True while this process leads; tries to become the leader when nobody is. Never throws: a failure is "no". */
  isLeader(): Promise<boolean>;
  /** Gives up the leadership (if held) and its connection. */
  close(): Promise<void>;
}
