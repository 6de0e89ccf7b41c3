/**
 * The `webrtc:` source, as go2rtc: strom is the WebRTC client and pulls a stream from another
 * server.
 *
 * - `webrtc:http://host:1984/api/webrtc?src=cam` (or `https:`): WHEP. strom POSTs a `recvonly`
 *   offer (`application/sdp`, every candidate in it), applies the answer, and DELETEs the session's
 *   `Location` when it stops.
 * - `webrtc:ws://host:1984/api/ws?src=cam` (or `wss:`): go2rtc's (and strom's) WebSocket
 *   signalling: `webrtc/offer` out, `webrtc/answer` and trickled `webrtc/candidate` in. The socket
 *   stays open for the session (the server ends the session with it).
 *
 * The dial resolves when ICE and DTLS are up, with the medias of the answer; the tracks become
 * frames through {@link WebRtcProducer}. It starts no program, so the network may add it.
 *
 * @module
 */
import type { Codec } from "../../core/codec.ts";
import type { SourceContext } from "../../core/connection.ts";
import { SourceError } from "../../core/errors.ts";
import { type Logger, silentLogger } from "../../core/log.ts";
import { parseSdp, SdpError } from "../../core/media.ts";
import { registerSource } from "../../core/registry.ts";
import { announceCandidates, type IcePolicy } from "./ice_policy.ts";
import { PeerSession } from "./peer.ts";
import { dtlsTransportsOf, loadWerift } from "./werift.ts";
import { chooseIngestTracks, WebRtcIngestCodecError, WebRtcProducer } from "./producer.ts";
import { replaceCandidates, sdpCandidates } from "./sdp.ts";
import { openWebSocket, type SignalSocket } from "./ws_signal.ts";

/** What strom offers to receive, as browsers write it. */
const OFFER_CODECS: { video: Codec[]; audio: Codec[] } = {
  video: [
    { name: "H264", clockRate: 90000, payloadType: 102, fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" },
    { name: "H264", clockRate: 90000, payloadType: 103, fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f" },
    { name: "H265", clockRate: 90000, payloadType: 104 },
  ],
  audio: [
    { name: "OPUS", clockRate: 48000, channels: 2, payloadType: 111, fmtp: "minptime=10;useinbandfec=1" },
    { name: "PCMU", clockRate: 8000, payloadType: 0 },
    { name: "PCMA", clockRate: 8000, payloadType: 8 },
  ],
};

/** Options of {@link dialWebRtc}. */
export interface WebRtcClientOptions {
  signal?: AbortSignal;
  ice?: IcePolicy;
  /** Give up when ICE has not connected this long after the answer. Default 10000 ms. */
  connectTimeoutMs?: number;
  log?: Logger;
}

/**
 * Dials a `webrtc:` source: signals, connects, and returns the producer of what the server sends.
 *
 * @throws {SourceError} the URL is not one strom can use, the server refused, the answer has no
 *   codec strom can receive, or ICE did not connect.
 * @example
 * ```ts
 * const producer = await dialWebRtc("webrtc:http://10.0.0.2:1984/api/webrtc?src=cam");
 * producer.medias(); // [video H264, audio OPUS]
 * ```
 */
export async function dialWebRtc(url: string, options: WebRtcClientOptions = {}): Promise<WebRtcProducer> {
  const log = options.log ?? silentLogger;
  const target = url.replace(/^webrtc:/i, "").split("#")[0];
  const fragment = url.includes("#") ? url.slice(url.indexOf("#") + 1) : "";
  if (/(^|#)format=/.test(fragment)) {
    throw new SourceError(url, `vendor formats (#${fragment}) are not supported; use a WHEP (http/https) or ws URL`);
  }
  let kind: "whep" | "ws";
  if (/^https?:\/\//i.test(target)) kind = "whep";
  else if (/^wss?:\/\//i.test(target)) kind = "ws";
  else {
    throw new SourceError(
      url,
      'expected webrtc:http(s)://host/api/webrtc?src=name (WHEP) or webrtc:ws(s)://host/api/ws?src=name',
    );
  }
  await loadWerift(); // first session only: werift loads on demand (see werift.ts)
  const peer = new PeerSession({
    ice: options.ice,
    codecs: OFFER_CODECS,
    // The source's own connect timeout runs below; the session's silence rule still applies.
    connectTimeoutMs: 0x7fffffff,
    log,
  });
  let socket: SignalSocket | undefined;
  let whepLocation: string | undefined;
  let producer: WebRtcProducer | undefined;
  const cleanup = () => {
    socket?.close();
    socket = undefined;
    if (whepLocation) {
      const location = whepLocation;
      whepLocation = undefined;
      fetch(location, { method: "DELETE", signal: AbortSignal.timeout(3000) })
        .then((r) => r.body?.cancel())
        .catch(() => {});
    }
  };
  try {
    const pc = peer.pc;
    // One transport for every section, as browsers offer (werift's default, max-compat, gathers a
    // transport per section and leaves the ones a bundled answer does not use open after close()).
    // PeerSession has no option for it; werift reads the policy from its SDP manager.
    (pc as unknown as { sdpManager: { bundlePolicy: string } }).sdpManager.bundlePolicy = "max-bundle";
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    peer.assignIceCredentials();
    await pc.setLocalDescription(await pc.createOffer());
    await waitGathering(peer, 3000);
    const local = pc.localDescription?.sdp ?? "";
    // Without a=end-of-candidates, as browsers offer: a server that keeps our UDP candidates out of
    // its ICE agent (strom's shared port learns us from our checks) must not take "no candidates,
    // gathering done" as failure before our first check arrives.
    const offer = replaceCandidates(local, announceCandidates(sdpCandidates(local), options.ice ?? {}))
      .split(/\r?\n/).filter((line) => line !== "a=end-of-candidates").join("\r\n");

    let answer: string;
    if (kind === "whep") {
      const res = await fetch(target, {
        method: "POST",
        headers: { "Content-Type": "application/sdp" },
        body: offer,
        signal: options.signal,
      }).catch((error) => {
        throw new SourceError(url, `cannot reach the WHEP server: ${(error as Error)?.message ?? error}`, { cause: error });
      });
      const text = await res.text();
      if (res.status !== 200 && res.status !== 201) {
        throw new SourceError(url, `the WHEP server answered ${res.status}: ${text.slice(0, 300)}`);
      }
      const location = res.headers.get("location");
      // Relative to where the answer came from: a WHEP server may redirect the offer (307, for load balancing).
      if (location) whepLocation = new URL(location, res.url || target).href;
      answer = (res.headers.get("content-type") ?? "").includes("json") ? String(JSON.parse(text)?.sdp ?? "") : text;
    } else {
      socket = await openWebSocket(target, options.signal);
      answer = await wsAnswer(url, socket, offer, peer, options.signal);
    }

    let sdp;
    try {
      sdp = parseSdp(answer);
    } catch (error) {
      if (error instanceof SdpError) throw new SourceError(url, `the answer is not SDP: ${error.message}`, { cause: error });
      throw error;
    }
    const { tracks, offered } = chooseIngestTracks(sdp);
    if (tracks.length === 0) {
      throw new SourceError(url, new WebRtcIngestCodecError("The answer", offered).message);
    }
    try {
      await pc.setRemoteDescription({ type: "answer", sdp: answer });
    } catch (error) {
      throw new SourceError(url, `the answer was refused: ${(error as Error)?.message ?? error}`, { cause: error });
    }
    producer = new WebRtcProducer(tracks, {
      close: () => peer.close("stopped"),
      url,
      protocol: kind,
      log,
    });
    producer.attach(peer.transceivers());
    const created = producer;
    peer.onClose = (reason) => {
      cleanup();
      stopTransports(peer);
      created.end(String(reason));
    };
    await waitConnected(url, peer, options.connectTimeoutMs ?? 10_000, options.signal);
    return producer;
  } catch (error) {
    peer.onClose = undefined;
    peer.close("error");
    producer?.end("error");
    stopTransports(peer);
    cleanup();
    if (error instanceof SourceError) throw error;
    throw new SourceError(url, String((error as Error)?.message ?? error), { cause: error });
  }
}

/** Stops the DTLS and ICE transports werift may leave open after `close()` (sockets, timers). */
function stopTransports(peer: PeerSession): void {
  for (const d of dtlsTransportsOf(peer.pc)) d.stop().catch(() => {});
}

/** Waits for gathering to complete (or `timeoutMs`). */
function waitGathering(peer: PeerSession, timeoutMs: number): Promise<void> {
  if (peer.pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const sub = peer.pc.iceGatheringStateChange.subscribe((s) => {
      if (s === "complete") done();
    });
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}

/** Waits for ICE and DTLS, the timeout, the abort signal, or the session's end. */
function waitConnected(url: string, peer: PeerSession, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (peer.state === "connected") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const previousClose = peer.onClose;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      peer.onConnected = undefined;
      if (peer.onClose === onClose) peer.onClose = previousClose;
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new SourceError(url, `ICE did not connect within ${timeoutMs} ms (check the candidates the server announces)`)),
      timeoutMs,
    );
    const onAbort = () => finish(new SourceError(url, "the dial was aborted"));
    const onClose = (reason: string) => {
      previousClose?.(reason);
      finish(new SourceError(url, `the WebRTC session ended before it connected (${reason})`));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) return onAbort();
    peer.onConnected = () => finish();
    peer.onClose = onClose;
  });
}

/** go2rtc's WebSocket signalling: the offer out, the answer back; candidates trickle in. */
function wsAnswer(url: string, socket: SignalSocket, offer: string, peer: PeerSession, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const timer = setTimeout(() => fail(new SourceError(url, "no webrtc/answer within 10 s")), 10_000);
    const onAbort = () => fail(new SourceError(url, "the dial was aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    function fail(error: Error) {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (!answered) reject(error);
      answered = true;
    }
    socket.onMessage = (text) => {
      let message: { type?: string; value?: unknown };
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      if (message.type === "webrtc/answer" && typeof message.value === "string" && !answered) {
        answered = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(message.value);
      } else if (message.type === "webrtc" && !answered) {
        const sdp = (message.value as { sdp?: unknown })?.sdp;
        if (typeof sdp === "string") {
          answered = true;
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(sdp);
        }
      } else if (message.type === "webrtc/candidate" && typeof message.value === "string") {
        // Candidates may come before the answer is applied: retry shortly after.
        const candidate = message.value;
        const add = () => peer.addRemoteCandidate(candidate).catch(() => {});
        if (peer.pc.remoteDescription) add();
        else setTimeout(add, 200);
      } else if (message.type === "error") {
        fail(new SourceError(url, `the server answered: ${String(message.value)}`));
      }
    };
    socket.onClose = () => {
      fail(new SourceError(url, "the WebSocket closed before the answer"));
      if (answered && peer.state !== "closed") peer.close("signalling closed");
    };
    socket.send(JSON.stringify({ type: "webrtc/offer", value: offer }));
  });
}

/**
 * Registers the `webrtc:` scheme. `ice` is read on each dial (the server's `webrtc:` config).
 *
 * @example
 * ```ts
 * registerWebRtcSources({ ice: () => ({ loopback: true }) });
 * hub.set("remote", ["webrtc:http://10.0.0.2:1984/api/webrtc?src=cam"]);
 * ```
 */
export function registerWebRtcSources(options: { log?: Logger; ice?: () => IcePolicy | undefined } = {}): void {
  registerSource("webrtc", (url: string, ctx: SourceContext) =>
    dialWebRtc(url, { signal: ctx.signal, log: options.log, ice: options.ice?.() ?? { loopback: true } }));
}
