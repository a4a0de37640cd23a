import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One alternative of a group: the path it provides, its priority, and its value for each slave ('' = none). */
export interface AlternativeChoice {
  readonly path: string;
  readonly priority: number;
  readonly slaveValues: readonly string[];
}

/** One link group of update-alternatives, as `/var/lib/dpkg/alternatives/NAME` records it. */
export interface AlternativesGroup {
  readonly name: string;
  readonly mode: 'auto' | 'manual';
  /** The generic name, e.g. `/usr/bin/editor`. */
  readonly link: string;
  readonly slaves: readonly { readonly name: string; readonly link: string }[];
  readonly choices: readonly AlternativeChoice[];
}

/**
 * Reads every group of dpkg's alternatives database (`ROOT/var/lib/dpkg/alternatives`). The format is lines:
 * mode, generic link, then slave name and link pairs up to a blank line; then per alternative its path, priority
 * and one line per slave; a blank line ends it. A group that does not follow it is returned in `malformed`. Read
 * as latin1, so every byte of a path survives.
 */
export function readAlternatives(root: string): { groups: AlternativesGroup[]; malformed: string[] } {
  const dir = join(root, 'var/lib/dpkg/alternatives');
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return { groups: [], malformed: [] };
  }
  const groups: AlternativesGroup[] = [];
  const malformed: string[] = [];
  for (const name of names) {
    try {
      groups.push(parseAlternativesGroup(name, readFileSync(join(dir, name), 'latin1')));
    } catch {
      malformed.push(name);
    }
  }
  return { groups, malformed };
}

/** Parses one group's file (see readAlternatives); throws when it is not in dpkg's format. */
export function parseAlternativesGroup(name: string, text: string): AlternativesGroup {
  const lines = text.split('\n');
  let i = 0;
  const next = (): string => {
    const line = lines[i++];
    if (line === undefined) throw new Error(`alternatives group ${name}: truncated`);
    return line;
  };
  const mode = next();
  if (mode !== 'auto' && mode !== 'manual') throw new Error(`alternatives group ${name}: unknown mode ${mode}`);
  const link = next();
  const slaves: { name: string; link: string }[] = [];
  for (let slave = next(); slave !== ''; slave = next()) slaves.push({ name: slave, link: next() });
  const choices: AlternativeChoice[] = [];
  for (let path = next(); path !== ''; path = next()) {
    const priority = Number(next());
    if (!Number.isInteger(priority)) throw new Error(`alternatives group ${name}: bad priority for ${path}`);
    choices.push({ path, priority, slaveValues: slaves.map(() => next()) });
  }
  return { name, mode, link, slaves, choices };
}

/**
 * The alternative a group must point at: in auto mode the one of highest priority among those that exist
 * (update-alternatives skips a missing one, and takes the first listed among equals), in manual mode any registered
 * one (`selected`), else none.
 */
export function expectedChoice(
  group: AlternativesGroup,
  selected: string | undefined,
  exists: (path: string) => boolean = () => true,
): AlternativeChoice | undefined {
  if (group.mode === 'manual') return group.choices.find((c) => c.path === selected);
  let best: AlternativeChoice | undefined;
  for (const c of group.choices) if (exists(c.path) && (best === undefined || c.priority > best.priority)) best = c;
  return best !== undefined && best.path === selected ? best : undefined;
}
