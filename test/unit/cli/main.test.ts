/** The command table, `--help` of every command, and how a wrong call is reported (one line, exit code 2). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { COMMANDS, loadCommand } from '../../../cli/main';
import { mainCli, runCli } from '../../support/cli';

test('every file in cli/commands is in the command table, and every entry has its file', () => {
  const files = readdirSync(join(__dirname, '../../../cli/commands')).map((f) => f.replace(/\.ts$/, ''));
  expect(COMMANDS.map((c) => c.name).sort()).toEqual(files.sort());
});

test('ballast --help lists every command with its summary, grouped', async () => {
  const { stdout } = await runCli(['--help']);
  for (const { name, summary } of COMMANDS) expect(stdout.replace(/\s+/g, ' ')).toContain(`${name} ${summary}`);
  expect(stdout).toMatch(/Run Ballast:[\s\S]*Operate a portfolio:[\s\S]*Research:[\s\S]*Test a gate:/);
});

describe.each(COMMANDS.map((c) => c.name))('ballast %s --help', (name) => {
  it('describes the command and every option, with its default where it has one', async () => {
    const command = new Command(name);
    (await loadCommand(name)).define(command);
    // A command with subcommands (`ballast portfolio create|update|…`): each subcommand is held to the rule.
    const commands =
      command.commands.length > 0 ? command.commands.map((c) => [[name, c.name()], c] as const) : [[[name], command] as const];
    for (const [words, described] of commands) {
      const { stdout } = await runCli([...words, '--help']);
      const help = stdout.replace(/\s+/g, ' ');
      expect(help).toContain(`Usage: ballast ${words.join(' ')} [options]`);
      expect(described.description().length).toBeGreaterThan(40);
      expect(help).toContain(described.description().replace(/\s+/g, ' '));
      if (described.name() !== 'list') expect(described.options.length).toBeGreaterThan(0);
      for (const option of described.options) {
        expect(option.description.length).toBeGreaterThan(5);
        const line = `${option.flags} ${option.description}`;
        expect(help).toContain(line);
        if (option.defaultValue !== undefined && !option.negate) expect(help).toContain(`${line} (default: `);
        if (option.mandatory) expect(help).toContain(`${line} (required)`);
      }
    }
  });

  it('is also `ballast help <command>`', async () => {
    expect((await runCli(['help', name])).stdout).toBe((await runCli([name, '--help'])).stdout);
  });
});

test.each([
  [['nosuch'], "ballast: unknown command 'nosuch'"],
  [['risc'], "ballast: unknown command 'risc' (Did you mean risk?)"],
  [['risk', '--prices', 'x.csv', '--bogus'], "ballast risk: unknown option '--bogus'"],
  [['regime', '--prices', 'x.csv', '--column', 'A', 'extra'], 'ballast regime: unexpected argument "extra"'],
  [['status'], "ballast status: required option '--portfolio <id>' not specified"],
  [
    ['metrics', '--portfolio', 'p', '--since', 'a while'],
    'ballast metrics: --since must be a positive duration like 500ms, 10s, 5m, 1h or 1d, got "a while"',
  ],
])('ballast %j: exit code 2, nothing on stdout, one line on stderr', async (argv, line) => {
  expect(await mainCli(argv)).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
});

test('ballast alone: the list of commands on stderr, then the error, exit code 2', async () => {
  const { code, stdout, stderr } = await mainCli([]);
  expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
  expect(stderr).toMatch(/^Usage: ballast <command> \[options\][\s\S]*\nballast: missing command \(see the list above\)\n$/);
});

test('a failure that is not a usage error (bad data) exits with 1 and one line', async () => {
  const { code, stdout, stderr } = await mainCli(['risk', '--prices', '/no/such/prices.csv']);
  expect(code).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toMatch(/^ballast risk: cannot read price file \/no\/such\/prices.csv[^\n]*\n$/);
});

test('--help exits with 0', async () => {
  expect((await mainCli(['--help'])).code).toBe(0);
  expect((await mainCli(['risk', '--help'])).code).toBe(0);
});
