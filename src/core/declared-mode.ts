import type { FileState } from './file-state.js';

/**
 * The mode and owner a package source gives a path: a .deb's data tar header, an rpm header
 * (FILEMODES/FILEUSERNAME/FILEGROUPNAME), or, for a host's own dpkg database (whose md5sums carry no mode), what
 * the file had when the import found its MD5 matching (`observed`: dpkg installs files as the tar says).
 */
export interface DeclaredMode {
  /** Permission bits including setuid, setgid and sticky (`& 0o7777`). */
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly owner?: string;
  readonly group?: string;
  /** Seen on the host at import rather than read from the package itself. */
  readonly observed?: boolean;
}

/** A declaration from a store's columns, leaving out what the source did not say (nulls) and `observed` when false. */
export function declaredMode(
  mode: number,
  uid: number | null,
  gid: number | null,
  owner: string | null,
  group: string | null,
  observed: boolean,
): DeclaredMode {
  return {
    mode,
    ...(uid === null ? {} : { uid }),
    ...(gid === null ? {} : { gid }),
    ...(owner === null ? {} : { owner }),
    ...(group === null ? {} : { group }),
    ...(observed ? { observed: true } : {}),
  };
}

/**
 * The bits that give someone more than the package meant to: setuid, setgid, sticky, and write for group or
 * others. A file with fewer permissions than declared (a hardened `chmod o-r`) is not a mismatch.
 */
const ELEVATING_BITS: readonly (readonly [number, string])[] = [
  [0o4000, 'setuid'],
  [0o2000, 'setgid'],
  [0o1000, 'sticky'],
  [0o0020, 'group write'],
  [0o0002, 'other write'],
];
const SET_ID = 0o6000;

/** `0755`, `4755`: a mode as `ls -l`'s octal, four digits. */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * What makes `after` differ from what the package declares, one phrase each (empty when it is what the package
 * ships). Owner and group compare by name when both sides have one (rpm and tar carry names; ids differ between
 * hosts), else by id. With no declaration at all, nothing is known of owner or mode, but a setuid or setgid bit
 * no source declares is a mismatch whatever the content, unless the baseline already had it (`before`: a package
 * update of a setuid program keeps the bit it was accepted with).
 */
export function declaredModeProblems(declared: DeclaredMode | undefined, after: FileState, before: FileState | undefined): string[] {
  if (declared === undefined) {
    const undeclared = after.mode & SET_ID & ~(before?.mode ?? 0);
    return ELEVATING_BITS.filter(([bit]) => (undeclared & bit) !== 0).map(([, name]) => `${name} bit that no package source declares`);
  }
  const problems = ELEVATING_BITS.filter(([bit]) => (after.mode & bit) !== 0 && (declared.mode & bit) === 0).map(([, name]) => `${name} bit not declared`);
  const owner = differs(declared.owner, declared.uid, after.uname, after.uid);
  if (owner) problems.push(`owner ${ownerName(after.uname, after.uid)}, declared ${ownerName(declared.owner, declared.uid)}`);
  const group = differs(declared.group, declared.gid, after.gname, after.gid);
  if (group) problems.push(`group ${ownerName(after.gname, after.gid)}, declared ${ownerName(declared.group, declared.gid)}`);
  return problems;
}

function differs(declaredName: string | undefined, declaredId: number | undefined, name: string | undefined, id: number): boolean {
  if (declaredName !== undefined && declaredName !== '' && name !== undefined && name !== '') return declaredName !== name;
  return declaredId !== undefined && declaredId !== id;
}

/** `root`, or the id when there is no name. */
export function ownerName(name: string | undefined, id: number | undefined): string {
  return name !== undefined && name !== '' ? name : id === undefined ? '?' : String(id);
}
