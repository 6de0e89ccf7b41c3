import { describe, expect, it } from "bun:test";
import { withSendBitrate } from "./send_bitrate.ts";

const ANSWER = [
  "v=0",
  "o=- 1 1 IN IP4 0.0.0.0",
  "s=-",
  "t=0 0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 0.0.0.0",
  "a=rtpmap:111 opus/48000/2",
  "a=fmtp:111 minptime=10;useinbandfec=1",
  "m=video 9 UDP/TLS/RTP/SAVPF 102 103 96",
  "c=IN IP4 0.0.0.0",
  "b=AS:30000",
  "a=mid:1",
  "a=rtpmap:102 H264/90000",
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  "a=rtpmap:103 rtx/90000",
  "a=fmtp:103 apt=102",
  "a=rtpmap:96 VP8/90000",
  "a=recvonly",
  "",
].join("\r\n");

describe("withSendBitrate (webrtc.bandwidth for publishers)", () => {
  it("caps each video section with b=AS/TIAS and Chrome's x-google bit rates on its media payload types", () => {
    const out = withSendBitrate(ANSWER, { minBps: 500_000, maxBps: 4_000_000, startBps: 1_000_000 });
    const lines = out.split("\r\n");
    const video = lines.slice(lines.indexOf("m=video 9 UDP/TLS/RTP/SAVPF 102 103 96"));
    expect(video.slice(0, 4)).toEqual([
      "m=video 9 UDP/TLS/RTP/SAVPF 102 103 96",
      "c=IN IP4 0.0.0.0",
      "b=AS:4000",
      "b=TIAS:4000000",
    ]);
    // The offer's own b=AS is replaced, not kept beside.
    expect(out.match(/^b=AS:/gm)).toHaveLength(1);
    const google = "x-google-min-bitrate=500;x-google-start-bitrate=1000;x-google-max-bitrate=4000";
    expect(out).toContain(
      `a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f;${google}\r\n`,
    );
    // VP8 had no fmtp: it gets one after its rtpmap. RTX and audio are left alone.
    expect(out).toContain(`a=rtpmap:96 VP8/90000\r\na=fmtp:96 ${google}\r\na=recvonly`);
    expect(out).toContain("a=fmtp:103 apt=102\r\n");
    expect(out).toContain("a=fmtp:111 minptime=10;useinbandfec=1\r\n");
    expect(out.endsWith("\r\n")).toBe(true);
  });

  it("writes only what is set, and leaves the SDP as it was when nothing is", () => {
    expect(withSendBitrate(ANSWER, {})).toBe(ANSWER);
    const start = withSendBitrate(ANSWER, { startBps: 300_000 });
    expect(start).not.toContain("b=TIAS");
    // Without a max the section's own b=AS stays.
    expect(start).toContain("b=AS:30000");
    expect(start).toContain("a=fmtp:96 x-google-start-bitrate=300\r\n");
  });
});
