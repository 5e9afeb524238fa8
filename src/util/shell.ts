// POSIX shell words: quoting a word so that `sh` reads it back unchanged (a command line handed to
// `sbatch --wrap`), and splitting a user's option string (`--slurm-args '--qos=high -C "a|b"'`) the
// way `sh` would, without expanding anything.

/** Words made only of these need no quotes (sh reads them as they are). */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `word` as one sh word: as is when plain, else in single quotes (a `'` inside becomes `'\''`). */
export function shellQuote(word: string): string {
  if (PLAIN.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Why a string is not a list of sh words (an unterminated quote, a trailing backslash). */
export class ShellWordsError extends Error {
  override readonly name = 'ShellWordsError';
}

/**
 * Splits `text` into words as sh does for a simple command: blanks separate words; single quotes
 * keep everything; double quotes keep everything but `\"`, `\\`, `\$` and `` \` ``; a backslash outside
 * quotes keeps the next character. Nothing is expanded: `$HOME` stays `$HOME`.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError(`unterminated ' quote at character ${i + 1}`);
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        word += text[j];
      }
      if (j >= text.length) throw new ShellWordsError(`unterminated " quote at character ${i + 1}`);
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ShellWordsError('a trailing \\ escapes nothing');
      word += text[++i];
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  return words;
}
