// POSIX shell words, by hand: quoting a value so that `sh` reads it back unchanged (a command line
// handed to `sbatch --wrap`, a value spliced into a `command` stage's `run:`), and splitting text into
// words the way `sh` would (`--slurm-args '--qos=high -C "a|b"'`, a `command` stage run without a
// shell) while expanding nothing: no `$VAR`, no `$(…)`, no globs, no pipes. The npm packages for
// this (shell-quote, shlex) expand variables or return operators as objects, which is what these
// callers must never do.

type QuoteState = 'bare' | 'single' | 'double';

/** Words made only of these need no quotes (sh reads them as they are). */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `word` as one sh word: as is when plain, else in single quotes (a `'` inside becomes `'\''`). */
export function shellQuote(word: string): string {
  return word !== '' && PLAIN.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `value` as text that reads back as itself where `before` leaves off (bare, inside '…' or inside "…"). */
export function quoteAfter(before: string, value: string): string {
  switch (stateAfter(before)) {
    case 'bare':
      return shellQuote(value);
    case 'single':
      return value.replaceAll("'", `'\\''`);
    case 'double':
      return value.replace(/[\\"$`]/g, (c) => `\\${c}`);
  }
}

/** Whether the end of `text` is outside quotes, or inside single or double ones. */
function stateAfter(text: string): QuoteState {
  let state: QuoteState = 'bare';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (state === 'single') {
      if (c === "'") state = 'bare';
    } else if (c === '\\') i++;
    else if (c === '"') state = state === 'double' ? 'bare' : 'double';
    else if (c === "'" && state === 'bare') state = 'single';
  }
  return state;
}

/** Why a string is not a list of sh words (an unterminated quote, a trailing backslash). */
export class ShellWordsError extends Error {
  override readonly name = 'ShellWordsError';
}

/**
 * Splits `text` into words as sh does for a simple command: blanks separate words; single quotes
 * keep everything; double quotes keep everything but `\"`, `\\`, `\$` and `` \` ``; a backslash outside
 * quotes keeps the next character; a backslash-newline continues the line. Nothing is expanded:
 * `$HOME` stays `$HOME`, `|` is a word.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let state: QuoteState = 'bare';
  let opened = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (state === 'single') {
      if (c === "'") state = 'bare';
      else word += c;
    } else if (state === 'double') {
      if (c === '"') state = 'bare';
      else if (c === '\\' && text[i + 1] === '\n') i++;
      else if (c === '\\' && i + 1 < text.length && '\\"$`'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      state = c === "'" ? 'single' : 'double';
      opened = i;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ShellWordsError('a trailing \\ escapes nothing');
      if (text[i + 1] !== '\n') word += text[i + 1];
      i++;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (state !== 'bare') throw new ShellWordsError(`unterminated ${state === 'single' ? "'" : '"'} quote at character ${opened + 1}`);
  if (inWord) words.push(word);
  return words;
}
