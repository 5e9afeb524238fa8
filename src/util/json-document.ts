// The one shape every `--json` document shares: `"format": 1` first, so that a script can check the
// version of what it reads before it reads on. Raise FORMAT when a document changes incompatibly
// (a field removed, renamed or retyped); added fields keep it.

export const JSON_FORMAT = 1;

/** The document as a command prints it: `{"format": 1, …fields}` and a newline. */
export function jsonDocument(fields: object, indent: number | undefined = 1): string {
  return `${JSON.stringify({ format: JSON_FORMAT, ...fields }, null, indent)}\n`;
}
