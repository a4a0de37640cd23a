import { readFileSync } from 'node:fs';

/**
 * The V8 flags the launcher (bin/custos.js) runs every command with: those on its shebang line and those it sets
 * with `setFlagsFromString`. An in-process benchmark of what a service does (the manager's ingest) runs with them,
 * so that it measures the heap the service has, not Node's default one.
 */
export function launcherNodeFlags(launcherPath: string): string[] {
  return parseLauncherFlags(readFileSync(launcherPath, 'utf8'));
}

/**
 * {@link launcherNodeFlags} of a launcher's text. A semi-space size set at run time is left out: V8 reads it only when
 * it makes an isolate, so there it concerns the worker threads started after it, not the thread that runs the
 * launcher (whose young generation is the shebang's), and on a command line it would replace the shebang's.
 */
export function parseLauncherFlags(launcher: string): string[] {
  const shebang = /^#!.*?\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s*$/.exec(launcher.split('\n')[0] ?? '')?.[1] ?? '';
  const runtime = [...launcher.matchAll(/setFlagsFromString\('(--[\w-]+(?:=[^']*)?)'\)/g)]
    .map((m) => m[1] as string)
    .filter((f) => !f.startsWith('--max-semi-space-size='));
  return [...shebang.split(/\s+/).filter((f) => f !== ''), ...runtime];
}
