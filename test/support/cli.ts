/** Runs `ballast …` in-process, as the entry point parses it, capturing what it writes. */
import { main, run } from '../../cli/main';

export interface CliOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `fn` with stdout and stderr captured (and kept off the test's console). */
async function captured<T>(fn: () => Promise<T>): Promise<CliOutput & { result: T }> {
  const output = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => ((output[stream] += String(chunk)), true));
  const spies = [capture('stdout'), capture('stderr')];
  try {
    const result = await fn();
    return { ...output, result };
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
}

/** Parses and runs `argv`; resolves with the output, rejects with the command's (typed) error. */
export async function runCli(argv: readonly string[]): Promise<CliOutput> {
  const { stdout, stderr } = await captured(() => run(argv));
  return { stdout, stderr };
}

/** The one JSON document a command printed on stdout. */
export async function runCliJson<T = Record<string, unknown>>(argv: readonly string[]): Promise<T> {
  return JSON.parse((await runCli(argv)).stdout) as T;
}

/** As the entry point runs it: errors reported on stderr, an exit code returned. */
export async function mainCli(argv: readonly string[]): Promise<CliOutput & { code: number }> {
  const { stdout, stderr, result } = await captured(() => main(argv));
  return { code: result, stdout, stderr };
}
