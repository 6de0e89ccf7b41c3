/**
 * A WebRTC viewer for the soak (scripts/soak/run.ts), in its own process so the soak can kill it:
 * a werift peer that plays a stream over WHEP (`POST /api/webrtc?src=`) or `/api/ws?src=`
 * (`webrtc/offer`, trickled candidates), prints `rtp <n>` once `n` RTP packets arrived, and then
 * waits to be killed (SIGKILL: no DELETE, no DTLS close, no WebSocket close frame; the server has
 * to notice on its own). It exits by itself after 30 s.
 *
 *   node --import tsx scripts/soak/webrtc_peer.ts whep|ws http://user:pass@127.0.0.1:1984 cam [packets]
 *
 * @module
 */
import { RTCPeerConnection, RTCRtpCodecParameters } from "werift";

const [mode, baseArg, stream, packetsArg] = process.argv.slice(2);
const wanted = Number(packetsArg ?? 50);
const base = new URL(baseArg);
const auth = base.username ? `Basic ${btoa(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`)}` : "";
const origin = `${base.protocol}//${base.host}`;
setTimeout(() => process.exit(2), 30_000);

const pc = new RTCPeerConnection({
  bundlePolicy: "max-bundle",
  iceUseIpv6: false,
  iceAdditionalHostAddresses: ["127.0.0.1"],
  iceInterfaceAddresses: { udp4: "127.0.0.1" } as never,
  codecs: {
    video: [
      new RTCRtpCodecParameters({
        mimeType: "video/H264",
        clockRate: 90000,
        payloadType: 102,
        rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
        parameters: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
      }),
    ],
    audio: [new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: 111 })],
  },
});
let packets = 0;
for (const kind of ["video", "audio"] as const) {
  pc.addTransceiver(kind, { direction: "recvonly" }).onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe(() => {
      if (++packets === 1) console.log(`first ${kind} packet`);
      if (packets === wanted) console.log(`rtp ${packets}`);
    })
  );
}
pc.connectionStateChange.subscribe((state) => console.log(`state ${state}`));
await pc.setLocalDescription(await pc.createOffer());
const offer = pc.localDescription!.sdp;

if (mode === "whep") {
  const res = await fetch(`${origin}/api/webrtc?src=${encodeURIComponent(stream)}`, {
    method: "POST",
    headers: { "content-type": "application/sdp", ...(auth ? { authorization: auth } : {}) },
    body: offer,
  });
  if (res.status !== 201) {
    console.log(`error ${res.status} ${await res.text()}`);
    process.exit(1);
  }
  await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
  console.log("answered");
} else {
  const Ctor: typeof WebSocket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket ??
    // @ts-ignore: the ws package ships no types
    (await import("ws")).WebSocket;
  const creds = base.username ? `${base.username}:${base.password}@` : "";
  const ws = new Ctor(`ws://${creds}${base.host}/api/ws?src=${encodeURIComponent(stream)}`);
  const early: string[] = [];
  const add = (candidate: string) => pc.addIceCandidate({ candidate, sdpMid: "0", sdpMLineIndex: 0 }).catch(() => {});
  ws.onopen = () => ws.send(JSON.stringify({ type: "webrtc/offer", value: offer }));
  ws.onmessage = async (e) => {
    const msg = JSON.parse(String(e.data)) as { type: string; value?: unknown };
    if (msg.type === "webrtc/answer") {
      await pc.setRemoteDescription({ type: "answer", sdp: String(msg.value) });
      console.log("answered");
      for (const c of early.splice(0)) await add(c);
    } else if (msg.type === "webrtc/candidate" && typeof msg.value === "string" && msg.value) {
      if (pc.remoteDescription) await add(msg.value);
      else early.push(msg.value);
    } else if (msg.type === "error") {
      console.log(`error ${String(msg.value)}`);
      process.exit(1);
    }
  };
  ws.onclose = () => process.exit(packets >= wanted ? 0 : 1);
}
