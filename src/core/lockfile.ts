/**
 * A lock file holding its owner's pid: created exclusively, taken over when its process is gone (a crash
 * leaves one behind), refused while that process lives. For directories one process may write at a time
 * (the file-backed state, the embedded database).
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/** Takes `lock`; `busy(pid)` makes the error thrown while another live process holds it. */
export function takeLockFile(lock: string, busy: (pid: number) => Error): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw busy(pid);
      unlinkSync(lock); // stale: its process is gone (or it was this process, which has let it go)
    }
  }
  throw new Error(`cannot take the lock ${lock}`);
}

/** Lets the lock go (nothing when it is already gone). */
export function dropLockFile(lock: string): void {
  try {
    unlinkSync(lock);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
