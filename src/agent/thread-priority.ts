import { getPriority, setPriority } from 'node:os';
import type { IoPriority } from '../core/config/scan-throttle-config.js';
import { nativeFsAttrs } from './native-fs-attrs.js';

/** The scheduling priorities a scan thread runs at. */
export interface ThreadPriority {
  /** Nice value, -20 to 19. */
  readonly nice: number;
  readonly io: IoPriority;
}

const IO_CLASS_NUMBER = { 'best-effort': 2, idle: 3 } as const;

/**
 * Sets the nice value and the I/O priority of the calling thread only: on Linux both are kept per thread
 * (`setpriority(PRIO_PROCESS, 0)` and `ioprio_set(IOPRIO_WHO_PROCESS, 0)` act on the caller), so a scan's walk and
 * hashing threads yield to the host's work while the agent's main thread, which handles realtime changes, keeps
 * the priority the service was started with. Returns what could not be applied (a lower nice value than the
 * thread has needs CAP_SYS_NICE), never throws: a scan runs either way.
 */
export function applyThreadPriority(priority: ThreadPriority): string[] {
  const problems: string[] = [];
  try {
    if (getPriority(0) !== priority.nice) setPriority(0, priority.nice);
  } catch (error) {
    problems.push(`could not set the scan's nice value to ${priority.nice}: ${(error as Error).message}`);
  }
  try {
    const rc = nativeFsAttrs().setIoPriority(IO_CLASS_NUMBER[priority.io.ioClass], priority.io.level);
    if (rc < 0) problems.push(`could not set the scan's I/O priority to ${priority.io.ioClass}:${priority.io.level} (errno ${-rc})`);
  } catch (error) {
    problems.push(`could not set the scan's I/O priority: ${(error as Error).message}`);
  }
  return problems;
}
