// Text into XML/HTML and back: the four characters that would end a text node or an attribute.
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const UNESCAPES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ESCAPES).map(([c, e]) => [e, c]));

export const escapeXml = (s: string): string => s.replace(/[&<>"]/g, (c) => ESCAPES[c]!);
export const unescapeXml = (s: string): string => s.replace(/&(?:amp|lt|gt|quot);/g, (e) => UNESCAPES[e]!);
