import { readdirSync } from 'node:fs';
import { IN, parseInotifyEvents, type InotifyEvent } from './inotify-events.js';
import { nativeFsAttrs, type InotifyHandle, type NativeFsAttrs } from './native-fs-attrs.js';

/** What the tree tells its owner. Paths are byte strings in latin1 (one char per byte), as the kernel gave them. */
export interface InotifyTreeListener {
  /** An entry changed, appeared or went away; a directory that appeared is already watched, with all below it. */
  changed(path: string): void;
  /**
   * The kernel's event queue overflowed: events were lost, everything watched must be looked at again. Told once
   * the roots were walked again, so a directory made while events were lost is watched before the rescan.
   */
  overflow(): void;
  /** A directory that appeared could not be watched (`code`: ENOSPC for the watch limit, EACCES, ...). */
  unwatchable(path: string, code: string): void;
  /** Reading the inotify instance failed: events may be lost from now on. */
  failed(code: string): void;
}

// Every change to an entry of a watched directory, and to the directory itself. IN_DONT_FOLLOW and IN_ONLYDIR: a
// symlink below a root is an entry, never followed; IN_EXCL_UNLINK: no events from a file deleted but still open.
const ENTRY_EVENTS = IN.MODIFY | IN.ATTRIB | IN.CLOSE_WRITE | IN.MOVED_FROM | IN.MOVED_TO | IN.CREATE | IN.DELETE | IN.DELETE_SELF | IN.MOVE_SELF;
const BELOW_ROOT = ENTRY_EVENTS | IN.ONLYDIR | IN.DONT_FOLLOW | IN.EXCL_UNLINK;
// A configured root may itself be a symlink to a directory: that one is followed, as the scan follows it.
const ROOT = ENTRY_EVENTS | IN.ONLYDIR | IN.EXCL_UNLINK;
/** Directories walked between two turns of the event loop, so a large tree does not hold up the agent. */
const WALK_BATCH = 256;

const ERRNO: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 12: 'ENOMEM', 13: 'EACCES', 20: 'ENOTDIR', 28: 'ENOSPC', 40: 'ELOOP' };
const code = (errno: number): string => ERRNO[errno] ?? `errno ${errno}`;
const child = (dir: string, name: string): string => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);

/**
 * Directory trees watched through one inotify instance of the native addon: one watch per directory, added before
 * the directory is listed (so a subdirectory made meanwhile raises an event), a directory that appears watched with
 * its subtree before it is reported, a directory moved away unwatched with its subtree, and the kernel's queue
 * overflow reported. It holds a table of watch descriptor to path, nothing per file.
 */
export class InotifyTree {
  readonly #native: NativeFsAttrs;
  readonly #handle: InotifyHandle;
  readonly #listener: InotifyTreeListener;
  readonly #ignored: (path: string) => boolean;
  readonly #pathOf = new Map<number, string>();
  readonly #wdOf = new Map<string, number>();
  readonly #roots: string[] = [];
  #rewalk: Promise<void> | undefined;
  #rewalkAgain = false;
  #closed = false;

  private constructor(native: NativeFsAttrs, listener: InotifyTreeListener, ignored: (path: string) => boolean) {
    this.#native = native;
    this.#listener = listener;
    this.#ignored = ignored;
    const handle = native.inotifyOpen((bytes, errno) => this.#onRead(bytes, errno));
    if (typeof handle === 'number') throw Object.assign(new Error(`inotify_init1 failed (${code(-handle)})`), { code: code(-handle) });
    this.#handle = handle;
  }

  /** A new tree watcher; `ignored(path)` keeps a directory (and what is below it) and a file out. Throws when inotify is unavailable. */
  static open(listener: InotifyTreeListener, ignored: (path: string) => boolean): InotifyTree {
    return new InotifyTree(nativeFsAttrs(), listener, ignored);
  }

  /** Directories watched now. */
  get watches(): number {
    return this.#pathOf.size;
  }

  /**
   * Watches `root` and every directory below it. Resolves to undefined, or to the errno code that stopped it: the
   * root itself could not be watched, or the watch limit was reached (ENOSPC; the watches this walk added are
   * removed again, so the limit is left to other roots). Other directories that cannot be watched go to `unwatchable`.
   */
  async watch(root: string): Promise<string | undefined> {
    const added: number[] = [];
    const failure = await this.#walk(root, ROOT, added);
    if (failure === 'ENOSPC') for (const wd of added) this.#unwatch(wd);
    if (failure === undefined) this.#roots.push(root);
    return failure;
  }

  /** Closes the instance: every watch goes with it, and no event comes after. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.inotifyClose(this.#handle);
    this.#pathOf.clear();
    this.#wdOf.clear();
  }

  async #walk(root: string, rootMask: number, added: number[]): Promise<string | undefined> {
    const queue = [root];
    for (let done = 0; queue.length > 0 && !this.#closed; done++) {
      if (done > 0 && done % WALK_BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
      if (this.#closed) break;
      const dir = queue.pop() as string;
      const wd = this.#native.inotifyAddWatch(this.#handle, Buffer.from(dir, 'latin1'), dir === root ? rootMask : BELOW_ROOT);
      if (wd < 0) {
        const failure = code(-wd);
        if (dir === root || failure === 'ENOSPC') return failure;
        // Gone already (its delete event reports it) or a symlink (not followed): nothing to watch.
        if (failure !== 'ENOENT' && failure !== 'ENOTDIR') this.#listener.unwatchable(dir, failure);
        continue;
      }
      // A directory watched already returns its watch: under another path it was moved while events were lost
      // (an overflow), and its path is the one seen now.
      const known = this.#pathOf.get(wd);
      if (known !== dir) {
        if (known !== undefined && this.#wdOf.get(known) === wd) this.#wdOf.delete(known);
        else added.push(wd);
        this.#pathOf.set(wd, dir);
        this.#wdOf.set(dir, wd);
      }
      let entries;
      try {
        entries = readdirSync(Buffer.from(dir, 'latin1'), { withFileTypes: true, encoding: 'buffer' });
      } catch {
        continue; // vanished meanwhile, or unreadable: the scan that follows reports what it cannot read
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const path = child(dir, entry.name.toString('latin1'));
        if (!this.#ignored(path)) queue.push(path);
      }
    }
    return undefined;
  }

  #onRead(bytes: Buffer | null, errno: number): void {
    if (this.#closed) return;
    if (bytes === null) {
      this.#listener.failed(code(errno));
      return;
    }
    for (const event of parseInotifyEvents(bytes)) this.#onEvent(event);
  }

  #onEvent(event: InotifyEvent): void {
    if ((event.mask & IN.Q_OVERFLOW) !== 0) {
      void this.#rewalkRoots();
      return;
    }
    if ((event.mask & IN.IGNORED) !== 0) {
      // The watch is gone (its directory was deleted, moved away and unwatched, or unmounted).
      const path = this.#pathOf.get(event.wd);
      this.#pathOf.delete(event.wd);
      if (path !== undefined && this.#wdOf.get(path) === event.wd) this.#wdOf.delete(path);
      return;
    }
    const dir = this.#pathOf.get(event.wd);
    if (dir === undefined) return;
    if (event.name === '') {
      // The directory itself: deleted, moved, its attributes changed.
      this.#listener.changed(dir);
      return;
    }
    const path = child(dir, event.name);
    if (this.#ignored(path)) return;
    const isDir = (event.mask & IN.ISDIR) !== 0;
    if (isDir && (event.mask & (IN.CREATE | IN.MOVED_TO)) !== 0) {
      // Watched first, reported after: the scan of the new subtree then sees every file made in it before.
      void this.#walk(path, BELOW_ROOT, []).then((failure) => {
        if (failure !== undefined) this.#listener.unwatchable(path, failure);
        if (!this.#closed) this.#listener.changed(path);
      });
      return;
    }
    if (isDir && (event.mask & IN.MOVED_FROM) !== 0) this.#unwatchSubtree(path);
    this.#listener.changed(path);
  }

  /**
   * After an overflow: walks every root again (a directory made or moved in while events were lost gets its watch)
   * and then tells the listener. Overflows during a walk lead to one more walk, not one each.
   */
  async #rewalkRoots(): Promise<void> {
    if (this.#rewalk !== undefined) {
      this.#rewalkAgain = true;
      return this.#rewalk;
    }
    this.#rewalk = (async () => {
      do {
        this.#rewalkAgain = false;
        for (const root of this.#roots) {
          const failure = await this.#walk(root, ROOT, []);
          if (failure !== undefined && !this.#closed) this.#listener.unwatchable(root, failure);
        }
      } while (this.#rewalkAgain && !this.#closed);
      this.#rewalk = undefined;
      if (!this.#closed) this.#listener.overflow();
    })();
    return this.#rewalk;
  }

  /** A directory moved away: its watches would report under the old path, so they go (a move in watches it anew). */
  #unwatchSubtree(path: string): void {
    const below = `${path}/`;
    for (const [dir, wd] of this.#wdOf) if (dir === path || dir.startsWith(below)) this.#unwatch(wd);
  }

  #unwatch(wd: number): void {
    const path = this.#pathOf.get(wd);
    this.#pathOf.delete(wd);
    if (path !== undefined) this.#wdOf.delete(path);
    this.#native.inotifyRemoveWatch(this.#handle, wd);
  }
}
