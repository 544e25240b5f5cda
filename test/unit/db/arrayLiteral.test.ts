/** The array literals of the batch inserts (db/arrayLiteral.ts), as Postgres's array input reads them. */
import { boolArray, numberArray, textArray } from '../../../db/arrayLiteral';

test('text: every element quoted, backslashes and double quotes escaped, nothing else touched', () => {
  expect(textArray([])).toBe('{}');
  expect(textArray(['a'])).toBe('{"a"}');
  expect(textArray(['', 'NULL', 'a,b', '{x}', ' sp '])).toBe('{"","NULL","a,b","{x}"," sp "}');
  expect(textArray(['say "hi"', 'C:\\dir', '\\"'])).toBe('{"say \\"hi\\"","C:\\\\dir","\\\\\\""}');
  expect(textArray(['é€😀'])).toBe('{"é€😀"}');
});

test("numbers: JavaScript's number text, which float8 and int4 input read", () => {
  expect(numberArray([])).toBe('{}');
  expect(numberArray([1, 2.5, -0.125, 1e-300, 1e300, 0.1 + 0.2])).toBe('{1,2.5,-0.125,1e-300,1e+300,0.30000000000000004}');
  expect(numberArray([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe('{NaN,Infinity,-Infinity}');
});

test('booleans: t and f', () => {
  expect(boolArray([])).toBe('{}');
  expect(boolArray([true, false, true])).toBe('{t,f,t}');
});
