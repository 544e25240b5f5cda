/**
 * `ballast <command> [options]`: the table of commands, parsing by commander, error reporting and the
 * exit. A command's flags, help text and body live in cli/commands/<name>.ts, which exports
 * `define(command)`; only the command that runs is loaded, so `ballast risk` never loads the Temporal
 * worker. To add a command: write that file and add its line to COMMANDS.
 *
 * Commands print their results on stdout and progress on stderr. Exit codes: 0 done; 1 failed (bad
 * data, a refused request, an outage), with one line on stderr; 2 called wrongly (UsageError: an
 * unknown command or option, a missing or bad value), with one line on stderr.
 */
import { extname, join } from 'node:path';
import { Command, CommanderError, Help } from 'commander';
import { UsageError } from './flags';
import { flushed } from './output';

/** What cli/commands/<name>.ts exports: it declares the command's description, options and action. */
export interface CommandModule {
  define(command: Command): void;
}

const GROUPS = {
  run: 'Run Ballast:',
  operate: 'Operate a portfolio:',
  research: 'Research:',
  gate: 'Test a gate:',
} as const;

/** Every command, in the order `ballast --help` lists them, with its one-line summary. */
export const COMMANDS = [
  { name: 'start', group: 'run', summary: 'run everything here: Postgres, Temporal, worker, gate, a demo portfolio and order flow' },
  { name: 'worker', group: 'run', summary: 'run a Temporal worker for the control loop' },
  { name: 'gate', group: 'run', summary: 'run the gRPC pre-trade gate' },
  { name: 'certs', group: 'run', summary: "the gate's local CA: make its certificates, or issue one for an OMS or operator" },
  { name: 'portfolio', group: 'operate', summary: 'create portfolios from a policy file, change their policy, list and show them' },
  { name: 'console', group: 'run', summary: 'run the risk desk console: web page and JSON API' },
  { name: 'status', group: 'operate', summary: "print a portfolio loop's status as JSON" },
  { name: 'approve', group: 'operate', summary: 'approve a pending recommendation' },
  { name: 'reject', group: 'operate', summary: 'reject a pending recommendation' },
  { name: 'rebalance', group: 'operate', summary: 'start a manual rebalance' },
  { name: 'halt', group: 'operate', summary: 'kill switch: the gate denies every order of a portfolio' },
  { name: 'reduce-only', group: 'operate', summary: 'the gate lets only exposure-reducing orders of a portfolio through' },
  { name: 'resume-trading', group: 'operate', summary: 'return a halted or reduce-only portfolio to normal trading' },
  { name: 'override', group: 'operate', summary: 'override a limit until an expiry (approved by someone other than its requester)' },
  { name: 'revoke', group: 'operate', summary: 'end a limit override before it expires' },
  { name: 'pause', group: 'operate', summary: "pause a portfolio's control loop" },
  { name: 'resume', group: 'operate', summary: 'resume a paused control loop' },
  { name: 'metrics', group: 'operate', summary: "print a portfolio's success metrics over a window as JSON" },
  { name: 'feed', group: 'operate', summary: 'switch a synthetic market feed between calm and crisis' },
  { name: 'risk', group: 'research', summary: 'covariance, allocation and risk contributions from a price file, as JSON' },
  {
    name: 'regime',
    group: 'research',
    summary: 'fit a Gaussian HMM to index returns: states, transitions, filtered probabilities as JSON',
  },
  { name: 'backtest', group: 'research', summary: 'walk-forward backtest of the dynamic budget against static baselines, as JSON' },
  { name: 'oms', group: 'gate', summary: "run the reference OMS: execute a portfolio's rebalancing plans through a gate" },
  { name: 'load', group: 'gate', summary: 'load-test a running gate: throughput and latency percentiles as JSON' },
] as const satisfies readonly { name: string; group: keyof typeof GROUPS; summary: string }[];

export type CommandName = (typeof COMMANDS)[number]['name'];

/**
 * Parses `argv` and runs the command. Throws what the command throws; a wrong call (commander's
 * errors included) is a UsageError. `--help` prints on stdout and returns.
 */
export async function run(argv: readonly string[]): Promise<void> {
  const target = targetCommand(argv);
  const program = await buildProgram(target);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) return; // help or version shown
    // `ballast` alone: commander has shown the list of commands on stderr.
    if (err.code === 'commander.help') throw new UsageError('missing command (see the list above)');
    const command = program.commands.find((c) => c.name() === target);
    throw new UsageError(oneLine(err, command));
  }
}

/** Runs the command and reports a failure on stderr as one line; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await run(argv);
    return 0;
  } catch (err) {
    const name = targetCommand(argv);
    const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`ballast${name ? ` ${name}` : ''}: ${message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

/**
 * The process entry point (bin/ballast.js). It exits only after stdout and stderr have handed every
 * byte to the operating system, so a pipe or a file receives the whole output whatever its size. It
 * exits explicitly because a library may keep a handle open after the work is done (a gRPC channel's
 * timer, the Temporal runtime).
 */
export async function cli(argv: readonly string[]): Promise<never> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0); // the reader has gone (`ballast regime … | head`): nobody is left to write to
  });
  const code = await main(argv);
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/** Commander's error as one line without its "error: " prefix; surplus words are named. */
function oneLine(err: CommanderError, command: Command | undefined): string {
  if (err.code === 'commander.excessArguments' && command) {
    const extra = command.args.slice(command.registeredArguments.length);
    if (extra.length > 0) return `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => `"${a}"`).join(' ')}`;
  }
  return err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
}

async function buildProgram(target: CommandName | undefined): Promise<Command> {
  const program = new Command('ballast')
    .description('Dynamic risk budgeting wired into a live trading flow.')
    .usage('<command> [options]')
    .helpCommand('help [command]', 'show the help of a command')
    .exitOverride()
    // Errors are reported by main(), in one line; help still goes to stdout (or stderr when missing a command).
    .configureOutput({ outputError: () => undefined })
    .configureHelp({
      // Commander lists mandatory options without saying so.
      optionDescription(option) {
        const text = Help.prototype.optionDescription.call(this, option);
        return option.mandatory ? `${text} (required)` : text;
      },
    });
  for (const entry of COMMANDS) {
    // program.command() passes exitOverride and the output settings on to the subcommand.
    const command = program.command(entry.name).summary(entry.summary).helpGroup(GROUPS[entry.group]);
    if (entry.name === target) (await loadCommand(entry.name)).define(command);
  }
  return program;
}

/** The command `argv` names (`ballast risk …`, `ballast help risk`), if it is one of COMMANDS. */
function targetCommand(argv: readonly string[]): CommandName | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name)?.name;
}

/** Loads cli/commands/<name>: native import() needs the file itself, .js under dist/ and .ts under ts-jest. */
export async function loadCommand(name: CommandName): Promise<CommandModule> {
  return (await import(join(__dirname, 'commands', `${name}${extname(__filename)}`))) as CommandModule;
}
