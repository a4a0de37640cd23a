/** The report_changes bench corpus: ~10 KB text files, each version changing 3 of its 200 lines. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** ~10 KB of configuration-like text, different per file and per version (version > 0 changes 3 lines in 200). */
export function corpusText(file: number, version: number): string {
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) {
    const changed = version > 0 && (i === 10 || i === 100 || i === 190);
    lines.push(`option_${i}_of_${file} = value-${(file * 7919 + i * 104729) % 1000003}${changed ? `-v${version}` : ''} # setting number ${i}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The path of file `file` of a corpus tree (100 files a directory). */
export function corpusPath(tree: string, file: number): string {
  return join(tree, `d${Math.floor(file / 100)}`, `f${file}.conf`);
}

/** Writes version `version` of every file of a corpus tree of `files` files. */
export function writeCorpus(tree: string, files: number, version: number): void {
  for (let f = 0; f < files; f++) {
    if (f % 100 === 0) mkdirSync(join(tree, `d${Math.floor(f / 100)}`), { recursive: true });
    writeFileSync(corpusPath(tree, f), corpusText(f, version));
  }
}
