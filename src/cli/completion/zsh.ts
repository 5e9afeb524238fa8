// `rethink completion zsh`: a zsh completion function (with each flag's help) generated from the
// command and flag tables.
import type { CommandCompletion, FlagCompletion } from './spec.js';

export function zshScript(commands: readonly CommandCompletion[]): string {
  const cases = commands.map((c) => {
    const specs = [
      ...c.flags.flatMap(flagSpecs),
      ...Array.from({ length: c.stageArgs }, (_, i) => `${i + 1}:stage:_rethink_stages`),
      '*:pipeline file:_files',
    ];
    return `    ${c.name}) _arguments -s \\\n${specs.map((s) => `      ${quote(s)}`).join(' \\\n')} ;;`;
  });
  return `#compdef rethink
# zsh completion for rethink. Load it in ~/.zshrc, after compinit:
#   source <(rethink completion zsh)
# Stage names come from the pipeline named on the line (or the default one), read with
# \`rethink completion stages\`, which parses the YAML and loads no plugin.

_rethink_stages() {
  local w pipeline
  local -a stages
  for w in \${words[2,-1]}; do
    [[ $w == *.(yaml|yml) ]] && pipeline=$w
  done
  stages=(\${(f)"$($_rethink_bin completion stages $pipeline 2>/dev/null)"})
  _describe 'stage' stages
}

_rethink() {
  local _rethink_bin=$words[1]
  local -a commands
  commands=(
${commands.map((c) => `    ${quote(`${c.name}:${c.summary}`)}`).join('\n')}
  )
  if ((CURRENT == 2)); then
    _describe 'command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  ((CURRENT--))
  case $cmd in
${cases.join('\n')}
  esac
}

compdef _rethink rethink
`;
}

/** `_arguments` specs for a flag: `--jobs[help]:N: ` and its short form; `*` where it repeats. */
function flagSpecs(f: FlagCompletion): string[] {
  const help = f.help.replace(/[[\]\\]/g, (ch) => `\\${ch}`);
  const action = f.value === undefined ? '' : f.value === 'stage' ? `:${f.name}:_rethink_stages` : f.value === 'path' ? `:${f.name}:_files` : `:${f.name}: `;
  const repeat = f.multiple ? '*' : '';
  return [`--${f.name}`, ...(f.short === undefined ? [] : [`-${f.short}`])].map((flag) => `${repeat}${flag}[${help}]${action}`);
}

/** A single-quoted shell word. */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
