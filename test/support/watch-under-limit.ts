/**
 * A realtime watcher run in a process of its own, for tests that give it a low inotify watch limit: the test
 * starts it in a fresh user namespace (`unshare -U -r`) whose `/proc/sys/user/max_inotify_watches` it lowered, so
 * the machine-wide limit is never touched. It watches the directories given as arguments (polling every
 * `CUSTOS_TEST_POLL_MS`) and prints, one JSON line each: `{ready: {native, polled}}` once watching, then every
 * `{log}`, `{paths}` and `{rescan: [dir, reason]}` it is told, until stdin closes.
 */
import { watchRealtime } from '../../src/agent/realtime-watcher.js';

const say = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const watcher = await watchRealtime(
  process.argv.slice(2),
  { onPaths: (paths) => say({ paths }), onRescan: (dir, reason) => say({ rescan: [dir, reason] }) },
  (log) => say({ log }),
  { pollMs: Number(process.env.CUSTOS_TEST_POLL_MS ?? 60_000), reconcileMs: 3_600_000 },
);
say({ ready: { native: watcher.native, polled: watcher.polled } });
process.stdin.resume();
process.stdin.on('end', () => void watcher.close().then(() => process.exit(0)));
