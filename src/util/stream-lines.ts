// A child process's output, line by line: each complete line as it arrives, and a last partial one
// when the stream ends (node:readline does the splitting, `\r\n` included).
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export function eachLine(stream: Readable, each: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', each);
}
