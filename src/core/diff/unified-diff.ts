/** How a unified diff is cut down to size. */
export interface UnifiedDiffOptions {
  /** Unchanged lines shown around each change (diff -u's default is 3). */
  readonly context?: number;
  /** Lines of diff output kept; the rest is replaced by one "… N more lines" line. */
  readonly maxLines?: number;
  /**
   * The most line edits the minimal (Myers) search looks for. Past it, the differing middle is shown as all old
   * lines removed and all new lines added: still a true diff, only not the shortest, and time and memory stay
   * bounded (O((N+M)·D) time, O(D²) memory) whatever the input.
   */
  readonly maxEdits?: number;
}

/** A unified diff's text (hunks only, no file headers) and what it counts. */
export interface UnifiedDiff {
  readonly text: string;
  readonly added: number;
  readonly removed: number;
  /** Output lines cut by `maxLines` (0 when the whole diff is in `text`). */
  readonly omittedLines: number;
}

const NO_EOL = '\\ No newline at end of file';

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string; readonly oldNo: number; readonly newNo: number };

/**
 * The unified diff of two texts, line by line, with `@@ -a,b +c,d @@` hunk headers carrying line numbers, as
 * `diff -u` prints them (without the `---`/`+++` file header lines). An empty text means no line differs.
 */
export function unifiedDiff(before: string, after: string, options: UnifiedDiffOptions = {}): UnifiedDiff {
  const context = options.context ?? 3;
  const maxLines = options.maxLines ?? 200;
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b, options.maxEdits ?? 1000);
  const lines = formatHunks(ops, context);
  const added = ops.filter((o) => o.kind === '+').length;
  const removed = ops.filter((o) => o.kind === '-').length;
  if (lines.length <= maxLines) return { text: lines.join('\n'), added, removed, omittedLines: 0 };
  const omitted = lines.length - maxLines;
  return { text: [...lines.slice(0, maxLines), `… ${omitted} more line${omitted === 1 ? '' : 's'}`].join('\n'), added, removed, omittedLines: omitted };
}

/** Lines of a text; a last line without its newline carries diff's marker, so it differs from one with it. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] = `${lines[lines.length - 1] ?? ''}\n${NO_EOL}`;
  return lines;
}

/** The edit script from `a` to `b`: common prefix and suffix first (config files mostly change in one place). */
function diffLines(a: readonly string[], b: readonly string[], maxEdits: number): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  // Lines become small integers so the search compares numbers, not strings.
  const ids = new Map<string, number>();
  const idOf = (line: string): number => {
    let id = ids.get(line);
    if (id === undefined) ids.set(line, (id = ids.size));
    return id;
  };
  const midA = Int32Array.from(a.slice(start, endA), idOf);
  const midB = Int32Array.from(b.slice(start, endB), idOf);
  const script = myers(midA, midB, maxEdits) ?? replaceAll(midA.length, midB.length);
  const ops: Op[] = [];
  for (let i = 0; i < start; i++) ops.push({ kind: ' ', line: a[i] ?? '', oldNo: i + 1, newNo: i + 1 });
  let x = start;
  let y = start;
  for (const step of script) {
    if (step === ' ') ops.push({ kind: ' ', line: a[x] ?? '', oldNo: ++x, newNo: ++y });
    else if (step === '-') ops.push({ kind: '-', line: a[x] ?? '', oldNo: ++x, newNo: y });
    else ops.push({ kind: '+', line: b[y] ?? '', oldNo: x, newNo: ++y });
  }
  for (let i = endA; i < a.length; i++) ops.push({ kind: ' ', line: a[i] ?? '', oldNo: ++x, newNo: ++y });
  return ops;
}

function replaceAll(n: number, m: number): ('-' | '+')[] {
  return [...Array<'-'>(n).fill('-'), ...Array<'+'>(m).fill('+')];
}

/**
 * Myers' O((N+M)·D) shortest edit script, or `undefined` when it needs more than `maxEdits` edits. Each round's
 * frontier is kept (2d+3 entries for round d) to walk the path back.
 */
function myers(a: Int32Array, b: Int32Array, maxEdits: number): (' ' | '-' | '+')[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= Math.min(max, maxEdits); d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  return undefined;
}

function backtrack(trace: readonly Int32Array[], n: number, m: number): (' ' | '-' | '+')[] {
  const steps: (' ' | '-' | '+')[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const frontier = trace[d] as Int32Array;
    const at = (k: number): number => frontier[k + d + 1] ?? 0;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      steps.push(' ');
      x--;
      y--;
    }
    steps.push(x === prevX ? '+' : '-');
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    steps.push(' ');
    x--;
    y--;
  }
  return steps.reverse();
}

/** Groups the edit script into hunks with `context` lines around each change, merged when they touch. */
function formatHunks(ops: readonly Op[], context: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i]?.kind === ' ') i++;
    if (i >= ops.length) break;
    const first = Math.max(0, i - context);
    // Extend while the next change is close enough that the hunks' context would meet.
    let last = i;
    let j = i;
    while (j < ops.length) {
      if (ops[j]?.kind !== ' ') last = j;
      else if (j - last > 2 * context) break;
      j++;
    }
    const end = Math.min(ops.length, last + context + 1);
    const hunk = ops.slice(first, end);
    out.push(hunkHeader(hunk));
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    i = end;
  }
  return out;
}

function hunkHeader(hunk: readonly Op[]): string {
  const oldCount = hunk.filter((o) => o.kind !== '+').length;
  const newCount = hunk.filter((o) => o.kind !== '-').length;
  const firstOld = hunk.find((o) => o.kind !== '+');
  const firstNew = hunk.find((o) => o.kind !== '-');
  // As diff -u: an empty side names the line before it (0 at the start of the file).
  const oldStart = firstOld === undefined ? (hunk[0]?.oldNo ?? 0) : firstOld.oldNo;
  const newStart = firstNew === undefined ? (hunk[0]?.newNo ?? 0) : firstNew.newNo;
  const range = (start: number, count: number): string => (count === 1 ? `${start}` : `${start},${count}`);
  return `@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`;
}
