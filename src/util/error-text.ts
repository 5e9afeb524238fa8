/** An error as one line: its message, and its cause's message when it has one (Node's fetch and the
 * AWS SDK put the network reason there: "fetch failed (connect ECONNREFUSED …)"). */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause instanceof Error ? `${e.message} (${e.cause.message})` : e.message;
}
