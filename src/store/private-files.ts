/**
 * The data dir holds the embedded database, the generated platform keys and
 * the demo merchant's credentials: readable by the owner only, whatever the
 * process umask was. Modes are set after creating (a mode given at creation
 * is narrowed by the umask, never widened, and an existing file keeps its own).
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates the directory owner-only, or narrows one that exists. A directory
 * shared on purpose (the sticky bit, as /tmp has) is left as it is: its
 * files are still owner-only.
 */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const mode = statSync(dir).mode;
  if ((mode & 0o1000) === 0 && (mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Narrows each file that exists to owner read/write. */
export function privateFiles(...files: string[]): void {
  for (const file of files) if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
}
