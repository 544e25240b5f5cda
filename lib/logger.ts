import pino, { type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { writeLogLine } from './terminalLine';

/** How log lines are written: `pretty` (human, coloured) or `json` (one object per line). */
export type LogFormat = 'pretty' | 'json';

/**
 * Structured logs on stderr (stdout stays free for command output and the status line). Level from
 * LOG_LEVEL. Pretty when stderr is a terminal, JSON otherwise (a file, a pipe, a log collector);
 * BALLAST_LOG_FORMAT=json|pretty decides instead. Every logger of a process, the Temporal SDK's and
 * core's included (processes/temporalRuntime.ts), writes through here: one stream.
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', format: LogFormat = logFormat()): Logger {
  const options = { name, level, base: { pid: process.pid } };
  const terminal = Boolean(process.stderr.isTTY);
  if (format === 'json' && !terminal) return pino(options, pino.destination(2));
  // Formatted in the calling tick (no worker thread, no stream pipe): a line is on screen before the
  // next status line redraw, and nothing is lost when the process exits.
  const prettify =
    format === 'pretty' ? prettyFactory({ colorize: terminal, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }) : undefined;
  const text = (line: string): string => (prettify ? prettify(line) : line);
  return pino(options, {
    write: terminal ? (line: string) => writeLogLine(text(line)) : (line: string) => process.stderr.write(text(line)),
  });
}

export function logFormat(env = process.env, stderrIsTerminal = Boolean(process.stderr.isTTY)): LogFormat {
  const chosen = env.BALLAST_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return stderrIsTerminal ? 'pretty' : 'json';
}
