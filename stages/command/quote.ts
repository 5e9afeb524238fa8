// Command text as POSIX shell words: values are quoted for the spot they are spliced into (bare,
// inside '…' or inside "…"), so a value with spaces, quotes or `$(…)` stays one literal argument;
// `splitWords` reads the words back without a shell (no expansion, no pipes), as `shell: false` runs.

type QuoteState = 'bare' | 'single' | 'double';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `value` as text that reads back as itself where `before` leaves off. */
export function quoteAfter(before: string, value: string): string {
  switch (stateAfter(before)) {
    case 'bare':
      return value !== '' && SAFE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
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

export class WordsError extends Error {
  override readonly name = 'WordsError';
}

/** The words of `text` as a POSIX shell would split them, without expanding anything. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let state: QuoteState = 'bare';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (state === 'single') {
      if (c === "'") state = 'bare';
      else word += c;
    } else if (state === 'double') {
      if (c === '"') state = 'bare';
      else if (c === '\\' && text[i + 1] === '\n') i++; // a continued line, as in the shell
      else if (c === '\\' && i + 1 < text.length && '\\"$`'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      state = c === "'" ? 'single' : 'double';
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new WordsError('it ends with a lone backslash');
      if (text[i + 1] !== '\n') word += text[i + 1]; // backslash-newline continues the line
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
  if (state !== 'bare') throw new WordsError(`a ${state === 'single' ? "'" : '"'} quote is not closed`);
  if (inWord) words.push(word);
  return words;
}
