/** The points at which a test may have the process die (see `dieAtTestFault`). */
export const TEST_FAULT_POINTS = ['exit-after-batch-commit', 'exit-after-group-commit'] as const;
/** One of `TEST_FAULT_POINTS`. */
export type TestFaultPoint = (typeof TEST_FAULT_POINTS)[number];

/**
 * TEST ONLY: fault injection for the end-to-end tests that prove what survives a crash. When the environment
 * variable `CUSTOS_TEST_FAULT` names `point`, the process kills itself there with SIGKILL, as a crash or the OOM
 * killer would: no handler, no `finally`, no flush runs. Nothing sets the variable outside tests; unset (always
 * in production) this is one comparison. This is the only place that reads it.
 */
export function dieAtTestFault(point: TestFaultPoint): void {
  if (process.env.CUSTOS_TEST_FAULT === point) process.kill(process.pid, 'SIGKILL');
}
