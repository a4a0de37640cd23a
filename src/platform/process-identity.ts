import { readFileSync, readlinkSync } from 'node:fs';

/**
 * Who a process is, well enough to tell later that it has died even if its PID was reused: its PID, its start time
 * (clock ticks since boot, `/proc/<pid>/stat` field 22), the boot it runs in, and its PID namespace (a PID means
 * nothing in another one). A field that could not be read is ''.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly start: string;
  readonly boot: string;
  readonly pidNamespace: string;
}

let self: ProcessIdentity | undefined;

/** This process's identity (read once: none of it changes while the process lives). */
export function thisProcess(): ProcessIdentity {
  self ??= {
    pid: process.pid,
    start: statOf(process.pid)?.start ?? '',
    boot: readOr('/proc/sys/kernel/random/boot_id'),
    pidNamespace: linkOr('/proc/self/ns/pid'),
  };
  return self;
}

/**
 * True only when `who` has certainly ended: the machine was rebooted since, or (in this PID namespace) no process
 * has its PID, the one that has it started at another time (the PID was reused), or it is a zombie. When that
 * cannot be told (no /proc, another PID namespace), it is taken to be alive.
 */
export function processEnded(who: ProcessIdentity): boolean {
  const me = thisProcess();
  if (who.boot !== '' && me.boot !== '' && who.boot !== me.boot) return true;
  if (who.boot === '' || me.boot === '' || who.pidNamespace === '' || who.pidNamespace !== me.pidNamespace) return false;
  const stat = statOf(who.pid);
  return stat === undefined || stat.start !== who.start || stat.state === 'Z' || stat.state === 'X';
}

/** State and start time of a process from `/proc/<pid>/stat`; `undefined` when there is no such process. */
function statOf(pid: number): { readonly state: string; readonly start: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function linkOr(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return '';
  }
}
