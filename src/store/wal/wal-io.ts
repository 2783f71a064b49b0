import { fdatasync, write } from 'node:fs';

/**
 * The two calls of the WAL's hot path, asynchronous (libuv's thread pool), so commands keep arriving and joining the
 * next group while a write + fdatasync is in flight. Tests wrap {@link nodeWalIo} to inject faults or to model an OS
 * crash; every other file operation of the WAL is plain `node:fs`.
 */
export interface WalIo {
  /** Writes all of `buf` at `position` of `fd`. */
  write(fd: number, buf: Buffer, position: number): Promise<void>;
  /** fdatasync(2) of `fd`. */
  datasync(fd: number): Promise<void>;
}

function writeOnce(fd: number, buf: Buffer, offset: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, buf, offset, buf.length - offset, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** The WAL's I/O on `node:fs`: short writes are continued until the buffer is written. */
export const nodeWalIo: WalIo = {
  async write(fd, buf, position) {
    let done = 0;
    while (done < buf.length) done += await writeOnce(fd, buf, done, position + done);
  },
  datasync(fd) {
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  },
};
