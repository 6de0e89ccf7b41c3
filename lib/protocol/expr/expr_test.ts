import { describe, expect, it } from "bun:test";
import { SourceError } from "../../core/errors.ts";
import { ExprError, parseExpr } from "./parser.ts";
import { runExpr } from "./interpreter.ts";
import { resolveExpr } from "./register.ts";

const run = (script: string) => runExpr(parseExpr(script));

describe("expr: language subset", () => {
  it("declares variables and ends with the URL", async () => {
    expect(await run(`let host = "10.0.0.5"; var port = 554; "rtsp://" + host + ":" + port + "/1"`))
      .toBe("rtsp://10.0.0.5:554/1");
    expect(await run(`let a = 'x'; let b = a + "y";\n\n b + "z";`)).toBe("xyz");
  });

  it("has go2rtc's documented forms: ternary, member, index, slice, lastIndexOf, match", async () => {
    expect(await run(`let ok = true; ok ? "rtsp://a" : ""`)).toBe("rtsp://a");
    expect(await run(`let r = {data: {URL: "rtsp://b"}, 'list': [1, 2, 3]}; r.data.URL + string(r.list[2])`))
      .toBe("rtsp://b3");
    // The Apple HLS example: url1[:lastIndexOf(url1, "/")+1] + url2
    expect(await run(`let url1 = "https://h/a/b/index.m3u8"; url1[:lastIndexOf(url1, "/")+1] + "gear1/prog.m3u8"`))
      .toBe("https://h/a/b/gear1/prog.m3u8");
    expect(await run(`match("x https://h/v.m3u8 y", "https.+?m3u8")[0]`)).toBe("https://h/v.m3u8");
    expect(await run(`match("a\\ngear1/prog_index.m3u8\\nb", "^[a-z0-1/_]+\\\\.m3u8$", "m")[0]`))
      .toBe("gear1/prog_index.m3u8");
    expect(await run(`match("abc", "(b)(c)")`)).toEqual(["bc", "b", "c"]);
    expect(await run(`match("abc", "z")`)).toBeNull();
  });

  it("operators and helpers", async () => {
    expect(await run(`1 + 2 * 3 - 4 / 2`)).toBe(5);
    expect(await run(`"a" == "a" && not (1 > 2) || false`)).toBe(true);
    expect(await run(`nil ?? "fallback"`)).toBe("fallback");
    expect(await run(`"abc" contains "b" and "abc" startsWith "a" and "abc" endsWith "c" and "abc" matches "^a"`))
      .toBe(true);
    expect(await run(`"b" in ["a", "b"]`)).toBe(true);
    expect(await run(`join(split(upper(trim("  a,b  ")), ","), "-")`)).toBe("A-B");
    expect(await run(`replace("a.b.c", ".", "/") + string(len("abc")) + string(int("42") + 1)`)).toBe("a/b/c343");
    expect(await run(`fromJSON('{"u": "rtsp://c"}').u`)).toBe("rtsp://c");
    expect(await run(`toJSON({a: [1, "x"]})`)).toBe('{"a":[1,"x"]}');
    expect(await run(`let m = nil; m?.field`)).toBeNull();
    expect(await run(`// comment\n/* block */ "x"`)).toBe("x");
  });

  it("never reaches JavaScript objects", async () => {
    expect(await run(`let m = {}; m.constructor`)).toBeNull();
    expect(await run(`let m = {}; m.__proto__`)).toBeNull();
    expect(await run(`let m = {}; m["constructor"]`)).toBeNull();
    await expect(run(`"x".constructor`)).rejects.toThrow(/cannot read ".constructor" of string/);
    await expect(run(`globalThis`)).rejects.toThrow(/unknown name "globalThis"/);
    await expect(run(`process`)).rejects.toThrow(/unknown name/);
    await expect(run(`eval("1")`)).rejects.toThrow(/unknown name "eval"/);
    await expect(run(`fetch("file:///etc/passwd")`)).rejects.toThrow(/takes http:\/\/ and https:\/\/ URLs/);
  });

  it("reports syntax and runtime errors with where they are", async () => {
    expect(() => parseExpr(`let x = ;`)).toThrow(ExprError);
    expect(() => parseExpr(`"a" "b"`)).toThrow(/declare the others with "let name = \.\.\.;"/);
    expect(() => parseExpr(`"unclosed`)).toThrow(/unclosed string/);
    expect(() => parseExpr(`let x = 1;`)).toThrow(/no result/);
    expect(() => parseExpr("(".repeat(200) + "1" + ")".repeat(200))).toThrow(/nests deeper/);
    await expect(run(`1 + {}`)).rejects.toThrow(/cannot combine number and map/);
    await expect(run(`[1][5]`)).rejects.toThrow(/out of range/);
    await expect(run(`let fetch = 1; "x"`)).rejects.toThrow(/built-in function/);
    await expect(resolveExpr("expr:let a = 1;\nb + 1")).rejects.toThrow(/line 2, column 1: unknown name "b"/);
    await expect(resolveExpr("expr:1 + 1")).rejects.toBeInstanceOf(SourceError);
    await expect(resolveExpr("expr:''")).rejects.toThrow(/must end with a source URL/);
  });
});
