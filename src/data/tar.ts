// Reads the regular files of a (gzipped) tar stream in-process, never writing them to disk, and
// refuses any entry that could escape an extraction folder (absolute path, `..`, links, devices).
import type { Readable } from 'node:stream';
import { DataError } from './errors.js';

/** Receives one file's bytes, in order, as they are decompressed. */
export interface TarFileSink {
  data(chunk: Buffer): void;
  end(): void;
}

/** Chooses which files to read: return a sink, or `undefined` to skip the file. */
export type TarFilePicker = (path: string, size: number) => TarFileSink | undefined;

/** Streams `source` (tar, tar.gz) and hands each picked file to its sink. `label` names the archive in errors. */
export async function readTarFiles(source: Readable, pick: TarFilePicker, label: string, signal?: AbortSignal): Promise<void> {
  const { Parser } = await import('tar');
  return new Promise<void>((resolvePromise, rejectPromise) => {
    let settled = false;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      source.destroy();
      rejectPromise(asArchiveError(e, label));
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const unsafe = unsafeReason(entry.path, entry.type);
        if (unsafe !== undefined) {
          parser.abort(
            new DataError('unsafe_entry', `archive ${label} has an unsafe entry "${entry.path}" (${unsafe}); nothing was extracted`),
          );
          return;
        }
        // A sink that throws (a malformed file) must stop the parser, not escape as an uncaught error.
        const guard = (f: () => void): void => {
          if (settled) return;
          try {
            f();
          } catch (e) {
            parser.abort(e as Error);
          }
        };
        let sink: TarFileSink | undefined;
        if (entry.type !== 'Directory') guard(() => (sink = pick(entry.path, entry.size)));
        if (sink === undefined) {
          entry.resume();
          return;
        }
        const chosen = sink;
        entry.on('data', (chunk: Buffer) => guard(() => chosen.data(chunk)));
        entry.on('end', () => guard(() => chosen.end()));
      },
    });
    parser.on('error', fail);
    if (signal?.aborted) fail(signal.reason);
    signal?.addEventListener('abort', () => fail(signal.reason), { once: true });
    parser.on('end', () => {
      if (settled) return;
      settled = true;
      resolvePromise();
    });
    source.on('error', fail);
    source.on('data', (chunk: Buffer) => {
      if (!parser.write(chunk)) source.pause();
    });
    parser.on('drain', () => source.resume());
    source.on('end', () => parser.end());
  });
}

const regularTypes = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

/** Why an entry is unsafe to extract, or undefined when it is a plain file or folder inside the target. */
export function unsafeReason(path: string, type: string): string | undefined {
  if (type === 'SymbolicLink' || type === 'Link') return `${type === 'Link' ? 'hard link' : 'symbolic link'}s are not allowed`;
  if (!regularTypes.has(type)) return `entry type ${type} is not allowed`;
  if (/^[/\\]/.test(path) || /^[a-zA-Z]:/.test(path)) return 'absolute path';
  if (path.split(/[/\\]+/).includes('..')) return "path escapes the target folder through '..'";
  return undefined;
}

function asArchiveError(e: unknown, label: string): unknown {
  if (e instanceof DataError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  if (/truncated|unexpected end/i.test(message) || code === 'Z_BUF_ERROR') {
    return new DataError('truncated', `archive ${label} is truncated: ${message}`, { cause: e });
  }
  if (typeof code === 'string' && (code.startsWith('TAR_') || code.startsWith('Z_'))) {
    return new DataError('bad_format', `archive ${label} is corrupt: ${message}`, { cause: e });
  }
  return e;
}
