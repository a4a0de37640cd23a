/**
 * The stat data Custos keeps of an entry: the walk's `lstat`, or the `fstat` of the file that was actually read, so
 * attributes and digests describe the same bytes.
 */
export interface StatSnapshot {
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly inode: number;
  readonly dev: number;
  readonly nlink: number;
  /** `st_mode & S_IFMT` */
  readonly format: number;
}

/**
 * Numbers per entry in the packed `lstat` arrays the walk passes around (the native directory listing's and a walk
 * chunk's): size, mode, uid, gid, inode, dev, nlink, format, in that order; the two times (mtime, then ctime, in ns)
 * are in a BigInt64Array beside them, two per entry.
 */
export const STAT_FIELDS = 8;

/** The `lstat` data of entry `i` of packed arrays laid out as STAT_FIELDS says. */
export function packedStat(numbers: Float64Array, times: BigInt64Array, i: number): StatSnapshot {
  const f = i * STAT_FIELDS;
  return {
    size: numbers[f] as number,
    mode: numbers[f + 1] as number,
    uid: numbers[f + 2] as number,
    gid: numbers[f + 3] as number,
    inode: numbers[f + 4] as number,
    dev: numbers[f + 5] as number,
    nlink: numbers[f + 6] as number,
    format: numbers[f + 7] as number,
    mtimeNs: times[i * 2] as bigint,
    ctimeNs: times[i * 2 + 1] as bigint,
  };
}

/** Writes `st` as entry `i` of packed arrays laid out as STAT_FIELDS says: what {@link packedStat} reads back. */
export function putPackedStat(numbers: Float64Array, times: BigInt64Array, i: number, st: StatSnapshot): void {
  const f = i * STAT_FIELDS;
  numbers[f] = st.size;
  numbers[f + 1] = st.mode;
  numbers[f + 2] = st.uid;
  numbers[f + 3] = st.gid;
  numbers[f + 4] = st.inode;
  numbers[f + 5] = st.dev;
  numbers[f + 6] = st.nlink;
  numbers[f + 7] = st.format;
  times[i * 2] = st.mtimeNs;
  times[i * 2 + 1] = st.ctimeNs;
}
