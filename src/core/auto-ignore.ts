import type { AutoIgnoreConfig } from './config/custos-config.js';

/** How often one file has changed lately: the window it is counted in, and what was rolled up. */
export interface NoiseState {
  /** Start of the current counting window, ms since the epoch. */
  readonly windowStartMs: number;
  /** Changes counted in this window. */
  readonly changes: number;
  /** Changes recorded without an alert since the file was found noisy. */
  readonly rolledUp: number;
}

/**
 * What auto-ignore does with one change that would otherwise alert:
 * - `alert`: alert as usual (`rolledUpBefore` > 0 when a noisy spell just ended: the alert reports the count)
 * - `roll-up`: this change crossed the threshold: raise the one "now noisy, alerts rolled up" alert
 * - `suppress`: record without an alert, counted for the next alert
 */
export type NoiseAction = 'alert' | 'roll-up' | 'suppress';

/** The decision and the state to keep. */
export interface NoiseDecision {
  readonly action: NoiseAction;
  readonly state: NoiseState;
  readonly rolledUpBefore: number;
}

/**
 * OSSEC silences a file for good after its third change; Custos keeps the option, safely: within `timeframe` the
 * first `frequency` changes alert, the next one raises a single roll-up alert, later ones are recorded (never
 * dropped) and counted, and once a window passes without the file being noisy, the next alert says how many
 * changes were rolled up meanwhile.
 */
export function decideNoise(previous: NoiseState | undefined, nowMs: number, config: AutoIgnoreConfig): NoiseDecision {
  if (previous === undefined || nowMs - previous.windowStartMs > config.timeframeMs) {
    return { action: 'alert', state: { windowStartMs: nowMs, changes: 1, rolledUp: 0 }, rolledUpBefore: previous?.rolledUp ?? 0 };
  }
  const changes = previous.changes + 1;
  if (changes <= config.frequency) return { action: 'alert', state: { ...previous, changes }, rolledUpBefore: 0 };
  if (changes === config.frequency + 1) return { action: 'roll-up', state: { ...previous, changes }, rolledUpBefore: 0 };
  return { action: 'suppress', state: { ...previous, changes, rolledUp: previous.rolledUp + 1 }, rolledUpBefore: 0 };
}
