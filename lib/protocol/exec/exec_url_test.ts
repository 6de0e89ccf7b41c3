import { describe, expect, it } from "bun:test";
import { DEFAULT_START_TIMEOUT_MS, parseExecUrl, parseKillSignal } from "./exec_url.ts";
import { parseHashParams, splitHashParams } from "./params.ts";
import { quoteSplit } from "./quote_split.ts";

describe("quoteSplit (go2rtc TestQuoteSplit)", () => {
  it("keeps a quoted multi-line argument whole and drops its quotes", () => {
    const s = `
python "-c" 'import time
print("time", time.time())'
`;
    expect(quoteSplit(s)).toEqual(["python", "-c", 'import time\nprint("time", time.time())']);
  });

  it("keeps quotes inside a word and strips them around a word", () => {
    expect(quoteSplit(`ffmpeg -i video="0" -i "DeckLink SDI (2)"`)).toEqual([
      "ffmpeg",
      "-i",
      'video="0"',
      "-i",
      "DeckLink SDI (2)",
    ]);
  });

  it("passes ffmpeg filter quoting through", () => {
    expect(quoteSplit(`ffmpeg -vf "drawtext=text='%{localtime\\:%X}'" -f mjpeg -`)).toEqual([
      "ffmpeg",
      "-vf",
      "drawtext=text='%{localtime\\:%X}'",
      "-f",
      "mjpeg",
      "-",
    ]);
    expect(quoteSplit(`  a\t b  ""  c `)).toEqual(["a", "b", "", "c"]);
  });

  it("rejects an unclosed quote", () => {
    expect(() => quoteSplit(`ffmpeg -i "broken`)).toThrow(SyntaxError);
    expect(() => quoteSplit(`ffmpeg -i "broken`)).toThrow(/character 11/);
  });
});

describe("parseHashParams", () => {
  it("splits on # without URL-decoding, repeating keys and empty values", () => {
    const p = parseHashParams("video=h264#video=copy#hardware#raw=-vf a=b%20c");
    expect(p.get("video")).toEqual(["h264", "copy"]);
    expect(p.get("hardware")).toEqual([""]);
    expect(p.get("raw")).toEqual(["-vf a=b%20c"]);
    expect(parseHashParams("").size).toBe(0);
    expect(splitHashParams("exec:cmd -x").params.size).toBe(0);
  });
});

describe("parseExecUrl", () => {
  it("reads the command, args and defaults", () => {
    const u = parseExecUrl(`exec:ffmpeg -re -i "my file.mp4" -f mjpeg -`);
    expect(u).toMatchObject({
      command: "ffmpeg",
      args: ["-re", "-i", "my file.mp4", "-f", "mjpeg", "-"],
      killSignal: "SIGKILL",
      killTimeoutMs: undefined,
      startTimeoutMs: DEFAULT_START_TIMEOUT_MS,
      rtspOutput: false,
      backchannel: false,
    });
  });

  it("reads #killsignal, #killtimeout, #starttimeout, #backchannel and {output}", () => {
    const u = parseExecUrl(
      "exec:ffmpeg -i x -f rtsp {output}#killsignal=15#killtimeout=2.5#starttimeout=10#backchannel=1",
    );
    expect(u.killSignal).toBe("SIGTERM");
    expect(u.killTimeoutMs).toBe(2500);
    expect(u.startTimeoutMs).toBe(10000);
    expect(u.rtspOutput).toBe(true);
    expect(u.backchannel).toBe(true);
    expect(u.commandLine).toBe("ffmpeg -i x -f rtsp {output}");
  });

  it("accepts signal numbers and names, rejects others", () => {
    expect(parseKillSignal("2")).toBe("SIGINT");
    expect(parseKillSignal("9")).toBe("SIGKILL");
    expect(parseKillSignal("SIGTERM")).toBe("SIGTERM");
    expect(parseKillSignal("int")).toBe("SIGINT");
    expect(() => parseKillSignal("1")).toThrow(/supported are 2 \(SIGINT\)/);
    expect(() => parseExecUrl("exec:x#killtimeout=soon")).toThrow(/#killtimeout=soon/);
    expect(() => parseExecUrl("exec:   #killsignal=9")).toThrow(/no command/);
  });
});
