/**
 * The one status line a process may keep at the bottom of its terminal (`npm start`), and the rule
 * that keeps log lines off it: a line written while the status line is shown first erases it, then
 * the status line is drawn again below the log line. Without a terminal nothing is drawn in place
 * and this does nothing but write.
 */
let shown: string | undefined;

/** Draws (or redraws) the status line in place on stdout. */
export function drawStatusLine(line: string): void {
  shown = line;
  process.stdout.write(`\r\x1b[2K${line}`);
}

/** Leaves the status line where it is and moves below it; later writes start on a fresh line. */
export function endStatusLine(): void {
  if (shown === undefined) return;
  shown = undefined;
  process.stdout.write('\n');
}

/** Writes a log line on stderr above the status line, if one is shown. */
export function writeLogLine(text: string): void {
  if (shown === undefined) {
    process.stderr.write(text);
    return;
  }
  process.stderr.write(`\r\x1b[2K${text}`);
  process.stdout.write(`\r\x1b[2K${shown}`);
}
