/** What a capture kept: the text (head, a marker, tail when cut), whether it was cut, and the bytes seen. */
export interface CapturedOutput {
  output: string;
  truncated: boolean;
  totalBytes: number;
}

/**
 * Keeps at most `capBytes` of a stream: the first half and the last half. Memory stays bounded by the cap however
 * much the command prints; the middle of a long output is replaced by a marker saying how many bytes were dropped.
 */
export class OutputCapture {
  readonly #headCap: number;
  readonly #tailCap: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;

  constructor(capBytes: number) {
    if (!Number.isInteger(capBytes) || capBytes < 2)
      throw new RangeError('the output cap is at least 2 bytes');
    this.#headCap = Math.ceil(capBytes / 2);
    this.#tailCap = capBytes - this.#headCap;
  }

  /** Adds a chunk of output. */
  push(chunk: Buffer): void {
    this.#total += chunk.length;
    const room = this.#headCap - this.#headBytes;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.#head.push(part);
      this.#headBytes += part.length;
      chunk = chunk.subarray(part.length);
    }
    if (chunk.length === 0) return;
    this.#tail.push(chunk);
    this.#tailBytes += chunk.length;
    while (this.#tail.length > 1 && this.#tailBytes - this.#tail[0]!.length >= this.#tailCap) {
      this.#tailBytes -= this.#tail.shift()!.length;
    }
  }

  /** The kept text, decoded as UTF-8 (a character cut at the seam shows as U+FFFD). */
  result(): CapturedOutput {
    const head = Buffer.concat(this.#head);
    const tailAll = Buffer.concat(this.#tail);
    const tail = tailAll.subarray(Math.max(0, tailAll.length - this.#tailCap));
    const dropped = this.#total - head.length - tail.length;
    if (dropped === 0)
      return {
        output: Buffer.concat([head, tail]).toString('utf8'),
        truncated: false,
        totalBytes: this.#total,
      };
    const marker = `\n[… overseer executor: ${dropped} bytes of output cut …]\n`;
    return {
      output: head.toString('utf8') + marker + tail.toString('utf8'),
      truncated: true,
      totalBytes: this.#total,
    };
  }
}
