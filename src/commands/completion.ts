import { Command } from 'commander';
import { usage } from '../errors.ts';
import { print } from '../report/terminal.ts';

/**
 * A bash completion script for `program` (zsh loads it through bashcompinit): commands, their
 * subcommands and options, read from the commander program itself so it never goes stale.
 */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const words = (c: Command) => [...c.commands.map((s) => s.name()), ...c.options.map((o) => o.long ?? o.short ?? '')].filter(Boolean).join(' ');
  const cases = program.commands.map((c) => `    ${c.name()}) opts="${words(c)}" ;;`).join('\n');
  const bash = `# performer completion (${shell}); load with: source <(performer completion ${shell})
_performer() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${program.commands.map((c) => c.name()).join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=( $(compgen -W "$opts --help" -- "$cur") )
}
complete -o default -F _performer performer
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

export const completionCommand = new Command('completion')
  .description('print a shell completion script: source <(performer completion bash)')
  .argument('<shell>', 'bash or zsh')
  .action((shell: string, _o: unknown, cmd: Command) => {
    if (shell !== 'bash' && shell !== 'zsh') throw usage('<shell>', `'${shell}' is not supported`, 'bash, zsh');
    print(completionScript(cmd.parent!, shell).trimEnd());
  });
