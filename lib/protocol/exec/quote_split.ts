/**
 * Splitting a command line into arguments the way go2rtc does (`pkg/shell.QuoteSplit`), so the same
 * `exec:` lines work unchanged.
 *
 * @module
 */

const SPACE = /[\t\n\r ]/;

/**
 * Splits a command line on whitespace. A word that *starts* with `"` or `'` runs to the next same
 * quote and loses both quotes (so it may hold spaces); quotes inside a word are kept as they are
 * (`video="0"` stays `video="0"`). No shell expansion and no escapes: ffmpeg filter syntax such as
 * `"drawtext=text='%{localtime\:%X}'"` passes through untouched.
 *
 * @throws {SyntaxError} when a quote is not closed.
 * @example
 * ```ts
 * quoteSplit(`ffmpeg -i "DeckLink SDI (2)" -vf "drawtext=text='a b'" -`);
 * // ["ffmpeg", "-i", "DeckLink SDI (2)", "-vf", "drawtext=text='a b'", "-"]
 * ```
 */
export function quoteSplit(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (SPACE.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      const close = line.indexOf(c, i + 1);
      if (close < 0) {
        throw new SyntaxError(
          `Cannot split command line at character ${i + 1}: the ${c} quote is never closed. ` +
            `Close it or remove it: ${line}`,
        );
      }
      out.push(line.slice(i + 1, close));
      i = close + 1;
    } else {
      let end = i + 1;
      while (end < n && !SPACE.test(line[end])) end++;
      out.push(line.slice(i, end));
      i = end;
    }
  }
  return out;
}
