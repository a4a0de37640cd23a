import type { SingleBar } from 'cli-progress';
import type { ScanStats } from '../agent/scan-stats.js';

/**
 * A progress line on stderr for long scans: entries, files/s and MB/s. Only on a TTY, and only once a scan has
 * run for a second, so cron mails and pipes stay clean. `cli-progress` is loaded then, not with the command (a scan
 * shorter than a second, or off a TTY, never pays for it).
 */
export function startScanProgress(stats: ScanStats): () => void {
  if (process.stderr.isTTY !== true) return () => {};
  const started = Date.now();
  let bar: SingleBar | undefined;
  let loading = false;
  let stopped = false;
  const timer = setInterval(() => {
    const seconds = (Date.now() - started) / 1000;
    const payload = {
      files: Math.round((stats.hashed + stats.reused) / seconds),
      mbps: (stats.bytesHashed / 1e6 / seconds).toFixed(1),
      hashed: stats.hashed,
    };
    if (bar === undefined) {
      if (seconds < 1 || loading) return;
      loading = true;
      void import('cli-progress').then(({ default: cliProgress }) => {
        if (stopped) return;
        bar = new cliProgress.SingleBar(
          { format: 'scanning {value} entries | {hashed} hashed | {files} files/s | {mbps} MB/s | {duration}s', stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(0, stats.entries, payload);
      });
      return;
    }
    bar.setTotal(stats.entries);
    bar.update(stats.entries, payload);
  }, 200);
  return () => {
    stopped = true;
    clearInterval(timer);
    bar?.stop();
  };
}
