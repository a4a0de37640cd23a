import { userInfo } from 'node:os';

/** Who is acting, for the record: the sudo caller when there is one, not just "root". */
export function actorName(): string {
  const sudoUser = process.env.SUDO_USER;
  if (sudoUser !== undefined && sudoUser !== '') return sudoUser;
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}
