// `rethink completion bash`: a bash completion function generated from the command and flag tables.
import type { CommandCompletion, FlagCompletion, ValueKind } from './spec.js';

export function bashScript(commands: readonly CommandCompletion[]): string {
  const cases = commands.map((c) => {
    const names = (kind: ValueKind) => spellings(c.flags.filter((f) => f.value === kind)).join(' ');
    return [
      `    ${c.name})`,
      `      flags='${c.flags.map((f) => `--${f.name}`).join(' ')}'`,
      `      stage_valued='${names('stage')}' path_valued='${names('path')}' text_valued='${names('text')}' stage_args=${c.stageArgs} ;;`,
    ].join('\n');
  });
  return `# bash completion for rethink. Load it in ~/.bashrc:
#   source <(rethink completion bash)
# Stage names come from the pipeline named on the line (or the default one), read with
# \`rethink completion stages\`, which parses the YAML and loads no plugin.

_rethink_stages() {
  local w pipeline=
  for w in "\${COMP_WORDS[@]:2}"; do
    case $w in *.yaml | *.yml) pipeline=$w ;; esac
  done
  "\${COMP_WORDS[0]}" completion stages $pipeline 2>/dev/null
}

_rethink() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD - 1]}
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -W '${commands.map((c) => c.name).join(' ')} help --help --version' -- "$cur"))
    return 0
  fi
  local flags stage_valued path_valued text_valued stage_args
  case \${COMP_WORDS[1]} in
${cases.join('\n')}
    *) return 0 ;;
  esac
  # The value of a flag that takes one.
  case " $stage_valued " in *" $prev "*)
    COMPREPLY=($(compgen -W "$(_rethink_stages)" -- "$cur"))
    return 0 ;;
  esac
  case " $path_valued " in *" $prev "*)
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
    return 0 ;;
  esac
  case " $text_valued " in *" $prev "*) return 0 ;; esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  fi
  # A positional: stage names first where the command takes them, then a pipeline file.
  local i n=0 w
  for ((i = 2; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case $w in
      -*) case " $stage_valued $path_valued $text_valued " in *" $w "*) ((i++)) ;; esac ;;
      *) ((n++)) ;;
    esac
  done
  if ((n < stage_args)); then
    COMPREPLY=($(compgen -W "$(_rethink_stages)" -- "$cur"))
  else
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
}

complete -F _rethink rethink
`;
}

/** `--only -o`: a flag's long and short spellings. */
function spellings(flags: readonly FlagCompletion[]): string[] {
  return flags.flatMap((f) => [`--${f.name}`, ...(f.short === undefined ? [] : [`-${f.short}`])]);
}
