/** The one log stream's format choice, and log lines kept off the status line. */
import { logFormat } from '../../../lib/logger';
import { drawStatusLine, endStatusLine, writeLogLine } from '../../../lib/terminalLine';

test('pretty on a terminal, JSON otherwise, unless BALLAST_LOG_FORMAT decides', () => {
  expect(logFormat({}, true)).toBe('pretty');
  expect(logFormat({}, false)).toBe('json');
  expect(logFormat({ BALLAST_LOG_FORMAT: 'json' }, true)).toBe('json');
  expect(logFormat({ BALLAST_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  expect(logFormat({ BALLAST_LOG_FORMAT: 'xml' }, false)).toBe('json');
});

test('a log line written while the status line is shown erases it first and redraws it after', () => {
  const writes: string[] = [];
  const spies = (['stdout', 'stderr'] as const).map((stream) =>
    jest
      .spyOn(process[stream], 'write')
      .mockImplementation((chunk: string | Uint8Array) => (writes.push(`${stream}:${String(chunk)}`), true)),
  );
  try {
    writeLogLine('before\n');
    drawStatusLine('regime bull | budget v1');
    writeLogLine('{"msg":"worker started"}\n');
    endStatusLine();
    writeLogLine('after\n');
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  expect(writes).toEqual([
    'stderr:before\n',
    'stdout:\r\x1b[2Kregime bull | budget v1',
    'stderr:\r\x1b[2K{"msg":"worker started"}\n',
    'stdout:\r\x1b[2Kregime bull | budget v1',
    'stdout:\n',
    'stderr:after\n',
  ]);
});
