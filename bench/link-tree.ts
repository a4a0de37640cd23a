import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A tree of `files` entries under `dir`, built fast: directories of 1,000 hard links to a few tiny files (one
 * `link()` per entry, no data written), in nested directories (`a0/b0/`) so the realtime watcher has a realistic
 * number of directories to watch (one per 1,000 files). The caller removes it.
 */
export function buildLinkTree(dir: string, files: number): void {
  const perDir = 1000;
  // ext4 allows 65,000 links to one inode: one source file per 50,000 entries.
  const sources = Array.from({ length: Math.max(8, Math.ceil(files / 50_000)) }, (_, i) => {
    const path = join(dir, `source-${i}`);
    writeFileSync(path, `tiny file ${i}\n`);
    return path;
  });
  let made = sources.length;
  for (let d = 0; made < files; d++) {
    const sub = join(dir, `a${Math.floor(d / 100)}`, `b${d % 100}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < perDir && made < files; f++, made++) linkSync(sources[f % sources.length] as string, join(sub, `f${f}`));
  }
}
