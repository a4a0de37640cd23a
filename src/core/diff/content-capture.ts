/** Why a change carries no diff. Each is said in the alert, so a missing diff is never silent. */
export const DIFF_UNAVAILABLE_REASONS = ['first-version', 'nodiff', 'too-large', 'binary', 'quota', 'changed-while-read', 'unreadable', 'not-regular'] as const;
export type DiffUnavailableReason = (typeof DIFF_UNAVAILABLE_REASONS)[number];

/**
 * The most bytes of one file ever read for a diff, whatever `diff_size_limit` or `diff.file_size` say: past it a
 * file is `too-large`. It bounds the memory a diff takes (the content, its text, the copy and the diff of a few
 * times that) and is what one observation may carry to a manager.
 */
export const MAX_CONTENT_BYTES = 4 << 20;

/**
 * The content of one file version as its reader captured it: the bytes (at most the size limit, and matching
 * the SHA-256 the scan recorded), or why there are none. Bytes are raw here; they are redacted before they are
 * stored or diffed.
 */
export type CapturedContent =
  | { readonly kind: 'bytes'; readonly bytes: Buffer; readonly sha256: string }
  | {
      readonly kind: 'none';
      readonly reason: Exclude<DiffUnavailableReason, 'first-version' | 'quota'>;
      readonly detail?: string;
      /** `too-large`: the limit the reader applied (an agent's own `diff_size_limit`, which its manager does not know). */
      readonly limitBytes?: number;
    };

/**
 * True when bytes are not text a diff can show: a NUL byte in the first 8 KiB (as diff and git decide), or
 * bytes that are not valid UTF-8.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.subarray(0, 8192).includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}
