import { describe, expect, it } from "bun:test";
import { parseMediaQuery } from "../../core/media.ts";
import { viewerMedias } from "./viewer_query.ts";

describe("viewerMedias", () => {
  it("uses the default query, ?mp4 and ?backchannel=1", () => {
    const def = viewerMedias(new URLSearchParams(""), "video&audio", parseMediaQuery);
    expect(def.map((m) => m.kind)).toEqual(["video", "audio"]);
    const mp4 = viewerMedias(new URLSearchParams("mp4"), "video&audio", parseMediaQuery);
    expect(mp4[0].codecs.map((c) => c.name)).toEqual(["H264", "H265"]);
    expect(mp4[1].codecs.map((c) => c.name)).toEqual(["MPEG4-GENERIC"]);
    const bc = viewerMedias(new URLSearchParams("video=h264&backchannel=1"), "video&audio", parseMediaQuery);
    expect(bc.map((m) => `${m.kind}:${m.direction}`)).toEqual(["video:sendonly", "audio:recvonly"]);
    // Unrelated keys (source=, pkt_size=) do not turn the default off.
    const other = viewerMedias(new URLSearchParams("source=x"), "video", parseMediaQuery);
    expect(other.map((m) => m.kind)).toEqual(["video"]);
  });
});
