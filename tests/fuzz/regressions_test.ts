// Inputs the fuzzer (scripts/fuzz) found crashing a parser with a TypeError/RangeError/ReferenceError
// instead of its domain error; each must now fail (or pass) cleanly. See docs/fuzzing.md.
import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { Fmp4Demuxer } from "../../lib/format/mp4/fmp4_demuxer.ts";
import { loadConfigText } from "../../server/config/mod.ts";
import { runtimeIo } from "../../server/load.ts";

const fmp4 = new Uint8Array(readFileSync(new URL("../../scripts/fuzz/corpus/ffmpeg_h264_aac.fmp4", import.meta.url)));
const indexOf = (d: Uint8Array, type: string) => {
  const t = [...type].map((c) => c.charCodeAt(0));
  for (let i = 0; i + 4 <= d.length; i++) if (t.every((b, k) => d[i + k] === b)) return i;
  throw new Error(`no ${type} box in the fixture`);
};
/** Error name thrown by `fn`, or "none". */
const thrown = (fn: () => unknown) => {
  try {
    fn();
    return "none";
  } catch (error) {
    return (error as Error).name;
  }
};

describe("fuzz findings stay fixed", () => {
  it("the fixture itself demuxes (the regressions below change one field of it)", () => {
    const demuxer = new Fmp4Demuxer(fmp4);
    expect(demuxer.tracks.map((t) => t.codec.name).sort()).toEqual(["H264", "MPEG4-GENERIC"]);
  });

  it("mp4: an avcC whose first SPS is not NAL type 7 is a DecoderConfigError, not a TypeError", () => {
    const bad = fmp4.slice();
    const avcC = indexOf(bad, "avcC");
    // avcC payload: version, profile, compat, level, lengthSize, numSps, spsLength(2), SPS...
    bad[avcC + 4 + 8] = 0x01; // NAL type 1 (a slice) where the SPS header byte was
    expect(thrown(() => new Fmp4Demuxer(bad))).toBe("DecoderConfigError");
  });

  it("mp4: an mp4a entry with 258 channels and no esds is skipped, not a RangeError", () => {
    const bad = fmp4.slice();
    const mp4a = indexOf(bad, "mp4a");
    const payload = mp4a + 4;
    bad[payload + 16] = 0x01; // channelcount = 258
    bad[payload + 17] = 0x02;
    const esds = indexOf(bad, "esds");
    bad.set([0x66, 0x72, 0x65, 0x65], esds); // "free": no DecoderSpecificInfo
    const name = thrown(() => new Fmp4Demuxer(bad));
    expect(["none", "Mp4BoxError"]).toContain(name);
    if (name === "none") expect(new Fmp4Demuxer(bad).tracks.map((t) => t.codec.name)).toEqual(["H264"]);
  });

  for (
    const [what, yaml] of [
      ["an alias whose anchor comes later", "streams:\n  cam: *cam\nx: &cam demo:\n"],
      ["an unknown alias", "streams:\n  cam: *nothing\n"],
      ["an alias bomb", 'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'],
    ]
  ) {
    it(`config: ${what} loads or is a ConfigError naming the file, never a ReferenceError`, async () => {
      const error = await loadConfigText(yaml, runtimeIo, "fuzz.yaml").then(() => undefined, (e: Error) => e);
      if (error) {
        expect(error.name).toBe("ConfigError");
        expect(error.message).toContain("fuzz.yaml");
      }
    });
  }
});
