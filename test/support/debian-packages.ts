import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A file a test package ships: its path inside the package and its content. */
export interface PackageFile {
  readonly path: string;
  readonly content: string;
  readonly mode?: number;
  /** Make this a hard link to another path of the same package. */
  readonly hardLinkTo?: string;
  /** Make this a symlink with this target. */
  readonly symlinkTo?: string;
}

/** Builds a real .deb with dpkg-deb (no maintainer scripts); returns its path. */
export function buildDeb(dir: string, spec: { name: string; version: string; files: readonly PackageFile[]; conffiles?: readonly string[] }): string {
  const tree = join(dir, `${spec.name}-${spec.version}`);
  mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
  writeFileSync(
    join(tree, 'DEBIAN/control'),
    `Package: ${spec.name}\nVersion: ${spec.version}\nArchitecture: all\nMaintainer: Custos Tests <tests@custos.invalid>\nDescription: test package\n`,
  );
  if (spec.conffiles !== undefined) writeFileSync(join(tree, 'DEBIAN/conffiles'), spec.conffiles.map((c) => `${c}\n`).join(''));
  for (const f of spec.files) {
    const full = join(tree, f.path);
    mkdirSync(dirname(full), { recursive: true });
    if (f.hardLinkTo !== undefined) linkSync(join(tree, f.hardLinkTo), full);
    else if (f.symlinkTo !== undefined) symlinkSync(f.symlinkTo, full);
    else {
      writeFileSync(full, f.content);
      chmodSync(full, f.mode ?? 0o644);
    }
  }
  const deb = join(dir, `${spec.name}_${spec.version}_all.deb`);
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', tree, deb], { stdio: 'ignore' });
  return deb;
}

/** An empty root dpkg can install into with `dpkg --root`. */
export function makeDpkgRoot(root: string): void {
  mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
  mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
}

/** Installs packages into a root with the real dpkg. */
export function dpkgInstall(root: string, ...debs: string[]): void {
  execFileSync('dpkg', [`--root=${root}`, '--force-confnew', '-i', ...debs], { stdio: 'ignore' });
}

/** Creates a throwaway OpenPGP signing key; returns the GNUPGHOME and a binary keyring holding its public key. */
export function makeSigningKey(dir: string): { home: string; keyring: string } {
  const home = join(dir, 'gnupg');
  mkdirSync(home, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'Custos Test Archive <archive@custos.invalid>', 'ed25519', 'sign', 'never'], {
    env,
    stdio: 'ignore',
  });
  const keyring = join(dir, 'archive-keyring.gpg');
  writeFileSync(keyring, execFileSync('gpg', ['--export'], { env }));
  return { home, keyring };
}

/** Clear-signs text as an InRelease with the test key. */
export function clearSign(home: string, text: string): Buffer {
  return execFileSync('gpg', ['--batch', '--clearsign', '--digest-algo', 'SHA256'], { env: { ...process.env, GNUPGHOME: home }, input: text });
}
