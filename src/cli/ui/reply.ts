// What a route answers, before it is written: a JSON document, bytes with their type, or a file
// streamed from the cache as a download.
export type Reply =
  | { readonly kind: 'json'; readonly body: unknown; readonly status?: number }
  | { readonly kind: 'bytes'; readonly body: Buffer | string; readonly contentType: string; readonly filename?: string }
  | { readonly kind: 'file'; readonly path: string; readonly bytes: number; readonly contentType: string; readonly filename: string };

export const json = (body: unknown): Reply => ({ kind: 'json', body });

/**
 * `Content-Disposition: attachment` with a filename every browser keeps: an ASCII fallback (quotes,
 * backslashes and control characters replaced) and the exact name in RFC 5987 form.
 */
export function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  // RFC 5987's attr-char leaves out what encodeURIComponent keeps: ' ( ) * (and ! is fine).
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}
