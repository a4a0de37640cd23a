import { pino, type Logger } from 'pino';

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// pino's own fields, shown in the line's prefix (or not at all) rather than as key=value.
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);

/**
 * The logger of a long-running command (`agent start`, `manager start`): pino's JSON lines on stderr, which
 * journald and log shippers read; when stderr is a terminal (someone trying it by hand), one readable line per
 * record instead, in local time: `14:02:07 WARN message key=value`.
 */
export function serviceLogger(service: string, stderrIsTerminal = process.stderr.isTTY === true): Logger {
  if (!stderrIsTerminal) return pino({ base: { service } }, pino.destination(2));
  return pino({ base: { service } }, { write: (line: string) => void process.stderr.write(readableLine(line)) });
}

/** One pino JSON record as a readable line in local time; a line that is not JSON is passed through. */
export function readableLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof record.time === 'number' ? new Date(record.time) : new Date();
  const clock = [time.getHours(), time.getMinutes(), time.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const level = typeof record.level === 'number' ? (LEVEL_NAMES[record.level] ?? String(record.level)) : 'INFO';
  const fields = Object.entries(record)
    .filter(([key]) => !OWN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  return `${clock} ${level.padEnd(5)} ${typeof record.msg === 'string' ? record.msg : ''}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
}
