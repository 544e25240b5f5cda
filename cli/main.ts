/**
 * `ballast <command> [options]`. Each command lives in cli/commands/<command>.ts and exports
 * `run(argv): Promise<number>` (the exit code) and a one-line `summary`. Commands print their results
 * on stdout (JSON for the quant commands) and exactly one clear line on stderr when they fail.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Command {
  readonly summary: string;
  run(argv: string[]): Promise<number>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const commandsDir = join(__dirname, 'commands');

function availableCommands(): string[] {
  if (!existsSync(commandsDir)) return [];
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.js') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))
    .map((f) => f.replace(/\.(js|ts)$/, ''))
    .sort();
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = availableCommands();
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(12)} ${(await load(n)).summary}`));
    process.stdout.write(`usage: ballast <command> [options]\n\ncommands:\n${lines.join('\n')}\n`);
    return name ? 0 : 2;
  }
  if (!names.includes(name)) {
    process.stderr.write(`ballast: unknown command "${name}" (commands: ${names.join(', ')})\n`);
    return 2;
  }
  try {
    return await (await load(name)).run(rest);
  } catch (err) {
    process.stderr.write(`ballast ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

async function load(name: string): Promise<Command> {
  // Native import() (module node16 keeps it) needs the file's extension: .js in dist/, .ts under ts-jest.
  const file = readdirSync(commandsDir).find((f) => f === `${name}.js` || f === `${name}.ts`) ?? name;
  return (await import(join(commandsDir, file))) as Command;
}
