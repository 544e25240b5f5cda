/**
 * The all-in-one process's terminal: a status line, single-key controls, and the request to stop
 * (Ctrl-C, q, SIGINT, SIGTERM) that the all-in-one process waits on.
 */
import { drawStatusLine, endStatusLine } from '../lib/terminalLine';

/**
 * Resolves on the first SIGINT or SIGTERM, or when `request()` is called (a key press). Later signals
 * change nothing: `npm start` forwards the one a terminal already sent to the whole process group.
 */
export interface StopRequest {
  readonly requested: Promise<void>;
  request(): void;
  dispose(): void;
}

export function stopRequest(): StopRequest {
  let request = (): void => undefined;
  const requested = new Promise<void>((resolve) => (request = resolve));
  const onSignal = (): void => request();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested,
    request,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Shows `render()` on stdout: redrawn in place every second on a terminal, one line every 5 s
 * otherwise (a log file keeps a readable history). The returned function stops it after the render
 * in flight, so nothing it queries is closed under it.
 */
export function statusLine(render: () => Promise<string>): () => Promise<void> {
  const tty = process.stdout.isTTY;
  let ticks = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    ticks++;
    if (!tty && ticks % 5 !== 0) return;
    inFlight = render().then((line) => {
      // On a terminal, log lines are written above it (lib/terminalLine.ts), never glued onto it.
      if (tty) drawStatusLine(line);
      else process.stdout.write(`${line}\n`);
    });
  }, 1_000);
  return async () => {
    clearInterval(timer);
    await inFlight.catch(() => undefined);
    if (tty) endStatusLine();
  };
}

/**
 * Single-key actions on a terminal's stdin (raw mode: no Enter needed); q and Ctrl-C call `quit`.
 * Without a terminal it does nothing. Returns the function that restores the terminal.
 */
export function keyControls(actions: Readonly<Record<string, () => void>>, quit: () => void): () => void {
  if (!process.stdin.isTTY) return () => undefined;
  process.stdin.setRawMode(true);
  process.stdin.resume();
  const onData = (buf: Buffer): void => {
    const key = buf.toString();
    if (key === 'q' || key === '\u0003') quit();
    else actions[key]?.();
  };
  process.stdin.on('data', onData);
  return () => {
    process.stdin.off('data', onData);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  };
}
