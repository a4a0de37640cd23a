/** What `custos status` reports of a baseline database, for one agent (standalone: the local one). */
export interface StoreStatus {
  readonly baselineEntries: number;
  /** The end of the agent's history chain: its last record and hash, and how many records it holds. */
  readonly chainHead?: { readonly lastEventId: number; readonly lastHash: string; readonly length: number };
  /** Alerts stored but not yet handed to every sink (an interrupted run; the next one delivers them). */
  readonly undeliveredAlerts: number;
  readonly storedAlerts: number;
  /** The agents the database knows (a manager's), the local one included. */
  readonly agents: number;
  /** The agent's recorded meta values the caller asked for. */
  readonly meta: Readonly<Record<string, string>>;
}
