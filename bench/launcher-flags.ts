import { readFileSync } from 'node:fs';

/**
 * The V8 flags the launcher (bin/custos.js) runs every command with: those on its shebang line and those it sets
 * with `setFlagsFromString`. An in-process benchmark of what a service does (the manager's ingest) runs with them,
 * so that it measures the heap the service has, not Node's default one.
 */
export function launcherNodeFlags(launcherPath: string): string[] {
  return parseLauncherFlags(readFileSync(launcherPath, 'utf8'));
}

/** {@link launcherNodeFlags} of a launcher's text. */
export function parseLauncherFlags(launcher: string): string[] {
  const shebang = /^#!.*?\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s*$/.exec(launcher.split('\n')[0] ?? '')?.[1] ?? '';
  const runtime = [...launcher.matchAll(/setFlagsFromString\('(--[\w-]+(?:=[^']*)?)'\)/g)].map((m) => m[1] as string);
  return [...shebang.split(/\s+/).filter((f) => f !== ''), ...runtime];
}
