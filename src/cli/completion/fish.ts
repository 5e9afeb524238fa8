// `rethink completion fish`: fish completions (with each flag's help) generated from the command and
// flag tables.
import type { CommandCompletion } from './spec.js';

export function fishScript(commands: readonly CommandCompletion[]): string {
  const lines = commands.flatMap((c) => {
    const when = `-n ${quote(`__fish_seen_subcommand_from ${c.name}`)}`;
    return [
      `complete -c rethink -n __fish_use_subcommand -a ${c.name} -d ${quote(c.summary)}`,
      ...c.flags.map((f) => {
        const value = f.value === undefined ? '' : f.value === 'stage' ? " -x -a '(__rethink_stages)'" : f.value === 'path' ? ' -r -F' : ' -x';
        return `complete -c rethink ${when} -l ${f.name}${f.short === undefined ? '' : ` -s ${f.short}`}${value} -d ${quote(f.help)}`;
      }),
      c.stageArgs > 0 ? `complete -c rethink ${when} -a '(__rethink_stages)'` : `complete -c rethink ${when} -F`,
    ];
  });
  return `# fish completion for rethink. Save it as ~/.config/fish/completions/rethink.fish:
#   rethink completion fish > ~/.config/fish/completions/rethink.fish
# Stage names come from the pipeline named on the line (or the default one), read with
# \`rethink completion stages\`, which parses the YAML and loads no plugin.

function __rethink_stages
    set -l pipeline
    for w in (commandline -opc)[3..-1]
        string match -qr '\\.ya?ml$' -- $w; and set pipeline $w
    end
    rethink completion stages $pipeline 2>/dev/null
end

complete -c rethink -f
${lines.join('\n')}
`;
}

/** A single-quoted fish word (fish escapes \\ and ' inside single quotes). */
const quote = (s: string): string => `'${s.replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
