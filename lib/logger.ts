import pino, { type Logger } from 'pino';

/** Structured JSON logs on stderr (stdout stays free for command output). Level from LOG_LEVEL. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}
