/**
 * Plays a sound on a camera's speaker through its RTSP ONVIF backchannel: ffmpeg makes 3 s of a
 * 440 Hz tone as A-law, and an AudioTalker sends it in 20 ms frames at real time. A camera that
 * takes PCMU instead gets it converted in process; give `--opus` to send Opus, which strom turns
 * into the camera's codec with ffmpeg.
 *
 *   node --import tsx examples/talk_to_camera.ts rtsp://admin:pass@192.168.1.60/onvif1
 */
import process from "node:process";
import { AudioTalker, registerBackchannelTranscoders, registerRtspSources, StreamHub } from "../mod.ts";
import { spawn } from "../lib/runtime/process.ts";

const url = process.argv[2];
if (!url) {
  console.error("usage: talk_to_camera.ts rtsp://user:pass@camera/path");
  process.exit(2);
}

registerRtspSources();
registerBackchannelTranscoders();
const hub = new StreamHub();
const door = hub.set("door", [url]);

// 3 s of A-law at 8 kHz from ffmpeg (strom runs no program the network asked for: this one is ours).
const ff = spawn("ffmpeg", [
  "-hide_banner",
  "-v",
  "error",
  "-f",
  "lavfi",
  "-i",
  "sine=frequency=440:sample_rate=8000:duration=3",
  "-ac",
  "1",
  "-c:a",
  "pcm_alaw",
  "-f",
  "alaw",
  "pipe:1",
]);
const chunks: Uint8Array[] = [];
for await (const chunk of ff.stdout!) chunks.push(chunk);
const alaw = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
chunks.reduce((off, c) => (alaw.set(c, off), off + c.length), 0);

const talker = new AudioTalker([{ name: "PCMA", clockRate: 8000 }]);
await door.addConsumer(talker); // throws CodecMismatchError when the camera has no backchannel
console.log(`talking in ${talker.codec?.name}/${talker.codec?.clockRate}`);
for (let off = 0; off < alaw.length; off += 160) {
  talker.push({ timestamp: off, keyframe: true, data: alaw.subarray(off, off + 160) });
  await new Promise((r) => setTimeout(r, 20));
}
await door.removeConsumer(talker);
await hub.close();
process.exit(0);
