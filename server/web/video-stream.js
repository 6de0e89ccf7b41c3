// <video-stream> — strom's player element. Picks the best way to play a stream in this browser, like
// go2rtc's video-rtc.js `mode`: WebRTC (signalled over the same /api/ws) first, then MSE (fMP4 over
// one WebSocket), then HLS where only native HLS exists (iOS Safari), then MJPEG as the last resort.
// A mode that fails (no common codec, ICE that does not connect) hands over to the next one.
// No dependencies, no CDN: works offline.
//
//   <video-stream src="api/ws?src=camera1" mode="webrtc,mse,hls,mjpeg"></video-stream>
//
// Attributes: src (WebSocket URL, relative ok), mode (comma list, order = preference), muted.
// Events: "status" (detail: {mode, state, message}), "talk" (detail: {state, message}).
//
// Two-way audio: the talk button (shown where WebRTC is one of the modes) asks for the microphone and
// starts WebRTC again with the audio section sendrecv, as go2rtc's `microphone` media does; the
// server sends it to the camera's backchannel. Clicking again starts WebRTC without it.

const CODECS = [
  "avc1.640029", "avc1.64002A", "avc1.640033", "avc1.4D401F", "avc1.42E01E",
  "hvc1.1.6.L153.B0", "mp4a.40.2", "mp4a.40.5", "flac", "opus",
];
const BUFFER_SECONDS = 5;
const RECONNECT_MS = 3000;
const DEFAULT_MODES = "webrtc,mse,hls,mjpeg";
// WebRTC that has not connected by then gives way to the next mode.
const WEBRTC_CONNECT_MS = 8000;

class VideoStream extends HTMLElement {
  static get observedAttributes() { return ["src", "mode"]; }

  constructor() {
    super();
    this.video = document.createElement("video");
    this.video.controls = true;
    this.video.playsInline = true;
    this.video.autoplay = true;
    this.video.muted = true;
    this.video.style.cssText = "display:block;width:100%;height:100%;background:#000;object-fit:contain";
    this.status = document.createElement("div");
    this.status.className = "vs-status";
    this.talkButton = document.createElement("button");
    this.talkButton.type = "button";
    this.talkButton.className = "vs-talk";
    this.talkButton.textContent = "Talk";
    this.talkButton.title = "Send your microphone to the camera (two-way audio)";
    this.talkButton.style.cssText = "position:absolute;right:8px;top:8px;z-index:1";
    this.talkButton.setAttribute("aria-pressed", "false");
    this.talkButton.onclick = () => this.toggleTalk();
    this.mic = null;
    this.ws = null;
    this.pc = null;
    this.mode = "";
    this.closed = true;
    this.reconnectTimer = 0;
  }

  connectedCallback() {
    // Attributes (style included) may only be set once connected, not in the constructor, or
    // document.createElement("video-stream") throws NotSupportedError.
    this.style.position = "relative";
    if (!this.contains(this.video)) this.append(this.video, this.status);
    const canTalk = this.modes.includes("webrtc") && "RTCPeerConnection" in window && !!navigator.mediaDevices;
    if (canTalk && !this.contains(this.talkButton)) this.append(this.talkButton);
    this.closed = false;
    this.start();
  }

  disconnectedCallback() {
    this.closed = true;
    this.stop();
    this.stopMic();
  }

  setTalk(state, message = "") {
    this.talkButton.setAttribute("aria-pressed", String(state === "on" || state === "talking"));
    this.talkButton.textContent = state === "talking" ? "Stop talking" : state === "on" ? "Stop" : "Talk";
    if (message) this.talkButton.title = message;
    this.dispatchEvent(new CustomEvent("talk", { detail: { state, message } }));
  }

  // Microphone on: WebRTC again with a sendrecv audio section; off: WebRTC again without it.
  async toggleTalk() {
    if (this.mic) {
      this.stopMic();
      this.setTalk("off");
    } else {
      try {
        this.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (e) {
        this.setTalk("error", `no microphone: ${e && e.message ? e.message : e}`);
        return;
      }
      this.setTalk("on");
    }
    const i = this.modes.indexOf("webrtc");
    if (i < 0 || this.closed) return;
    this.stop();
    this.startWebRTC(i);
  }

  stopMic() {
    if (!this.mic) return;
    for (const t of this.mic.getTracks()) t.stop();
    this.mic = null;
  }

  attributeChangedCallback() {
    if (!this.closed) {
      this.stop();
      this.start();
    }
  }

  get modes() {
    return (this.getAttribute("mode") || DEFAULT_MODES).split(",").map((s) => s.trim()).filter(Boolean);
  }

  wsURL() {
    const src = this.getAttribute("src") || "";
    const url = new URL(src, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : url.protocol === "http:" ? "ws:" : url.protocol;
    return url.href;
  }

  httpURL(path) {
    const url = new URL(this.getAttribute("src") || "", location.href);
    const name = url.searchParams.get("src") || "";
    return new URL(`${path}?src=${encodeURIComponent(name)}`, url).href;
  }

  setStatus(state, message = "") {
    this.status.textContent = `${this.mode.toUpperCase()} ${state}${message ? ": " + message : ""}`;
    this.dispatchEvent(new CustomEvent("status", { detail: { mode: this.mode, state, message } }));
  }

  start(from = 0) {
    // Modes in the order given; each one this browser can do is tried until one plays.
    const modes = this.modes;
    const hasMSE = "MediaSource" in window || "ManagedMediaSource" in window;
    for (let i = from; i < modes.length; i++) {
      const m = modes[i];
      if (m === "webrtc" && "RTCPeerConnection" in window) return this.startWebRTC(i);
      if (m === "mse" && hasMSE) return this.startMSE();
      if (m === "hls" && this.video.canPlayType("application/vnd.apple.mpegurl")) return this.startHLS();
      if (m === "mjpeg") return this.startMJPEG();
    }
    if (from > 0) return this.scheduleReconnect();
    this.mode = "none";
    this.setStatus("error", "no playback mode available in this browser");
  }

  stop() {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.webrtcTimer);
    if (this.pc) {
      this.pc.onconnectionstatechange = null;
      this.pc.close();
      this.pc = null;
    }
    this.video.srcObject = null;
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
    if (this.img) {
      this.img.src = "";
      this.img.remove();
      this.img = null;
    }
    this.video.removeAttribute("src");
    this.video.load();
  }

  scheduleReconnect() {
    if (this.closed) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.stop();
      this.start();
    }, RECONNECT_MS);
  }

  startWebRTC(index) {
    this.mode = "webrtc";
    this.setStatus("connecting");
    this.video.style.display = "";
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers: [] });
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    const micTrack = this.mic ? this.mic.getAudioTracks()[0] : null;
    if (micTrack) pc.addTransceiver(micTrack, { direction: "sendrecv", streams: [this.mic] });
    else pc.addTransceiver("audio", { direction: "recvonly" });
    const media = new MediaStream();
    pc.ontrack = (ev) => {
      media.addTrack(ev.track);
      if (this.video.srcObject !== media) this.video.srcObject = media;
      this.video.play().catch(() => {});
    };
    const ws = new WebSocket(this.wsURL());
    this.ws = ws;
    let playing = false;
    let over = false;
    let codec = "";
    const next = (why) => {
      // This mode failed before playing: the next mode gets its turn (the server's message stays
      // on screen when the stream does not exist: no other mode can help then).
      if (over) return;
      over = true;
      this.setStatus("error", why);
      if (/not found/i.test(why)) {
        this.stop();
        return;
      }
      this.stop();
      this.start(index + 1);
    };
    const send = (msg) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
    };
    pc.onicecandidate = (ev) => send({ type: "webrtc/candidate", value: ev.candidate ? ev.candidate.candidate : "" });
    pc.onconnectionstatechange = () => {
      const state = pc.connectionState;
      if (state === "connected") {
        playing = true;
        clearTimeout(this.webrtcTimer);
        this.setStatus("playing", codec);
      } else if (state === "failed" || state === "closed" || state === "disconnected") {
        if (!playing) next(`WebRTC ${state}`);
        else if (state !== "disconnected") {
          this.setStatus("closed", `WebRTC ${state}`);
          this.scheduleReconnect();
        }
      }
    };
    ws.onopen = async () => {
      try {
        await pc.setLocalDescription(await pc.createOffer());
        send({ type: "webrtc/offer", value: pc.localDescription.sdp });
      } catch (e) {
        next(String(e));
      }
    };
    ws.onmessage = async (ev) => {
      if (typeof ev.data !== "string") return;
      const msg = JSON.parse(ev.data);
      try {
        if (msg.type === "webrtc/answer") {
          codec = answerCodecs(msg.value);
          await pc.setRemoteDescription({ type: "answer", sdp: msg.value });
          if (micTrack) {
            // The server receives the microphone only when a source has a backchannel.
            if (answerReceivesAudio(msg.value)) this.setTalk("talking", "talking to the camera");
            else this.setTalk("error", "the stream's sources take no audio (no backchannel, or #backchannel=0)");
          }
        } else if (msg.type === "webrtc/candidate") {
          if (msg.value) await pc.addIceCandidate({ candidate: msg.value, sdpMid: "0" });
        } else if (msg.type === "error") {
          // The camera came back from a reconnect without its backchannel: only talking stopped.
          if (micTrack && /two-way audio/.test(msg.value)) this.setTalk("error", msg.value);
          else if (!playing) next(msg.value);
          else this.setStatus("error", msg.value);
        }
      } catch (e) {
        next(String(e));
      }
    };
    ws.onclose = () => {
      // The server ends the session with the socket.
      if (over) return;
      if (!playing) return next("WebSocket closed");
      this.setStatus("closed");
      this.scheduleReconnect();
    };
    this.webrtcTimer = setTimeout(() => {
      if (!playing) next("WebRTC did not connect");
    }, WEBRTC_CONNECT_MS);
  }

  startMSE() {
    this.mode = "mse";
    this.setStatus("connecting");
    const MS = window.ManagedMediaSource || window.MediaSource;
    const ms = new MS();
    this.video.disableRemotePlayback = true;
    this.video.src = URL.createObjectURL(ms);
    const ws = new WebSocket(this.wsURL());
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    let sb = null;
    let lastError = "";
    const pending = [];
    let pendingBytes = 0;

    const pump = () => {
      if (!sb || sb.updating || pending.length === 0) return;
      const chunk = pending.length === 1 ? pending[0] : concat(pending);
      pending.length = 0;
      pendingBytes = 0;
      try {
        sb.appendBuffer(chunk);
      } catch (e) {
        this.setStatus("error", String(e));
      }
    };

    const trim = () => {
      // Keep a short window and play close to live: skip ahead when far behind, speed up a little
      // when slightly behind.
      const buffered = sb.buffered;
      if (!buffered.length) return;
      const end = buffered.end(buffered.length - 1);
      const start = buffered.start(0);
      if (!sb.updating && end - start > BUFFER_SECONDS * 2) {
        try { sb.remove(start, end - BUFFER_SECONDS); } catch { /* busy */ }
      }
      const lag = end - this.video.currentTime;
      if (lag > BUFFER_SECONDS) this.video.currentTime = end - 0.5;
      else this.video.playbackRate = lag > 1.5 ? 1.1 : 1;
      if (this.video.paused && this.video.readyState >= 2) this.video.play().catch(() => {});
    };

    ms.addEventListener("sourceopen", () => {
      URL.revokeObjectURL(this.video.src);
      const codecs = CODECS.filter((c) => MS.isTypeSupported(`video/mp4; codecs="${c}"`));
      const send = () => ws.send(JSON.stringify({ type: "mse", value: codecs.join(",") }));
      if (ws.readyState === WebSocket.OPEN) send();
      else ws.addEventListener("open", send, { once: true });
    }, { once: true });

    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        const msg = JSON.parse(ev.data);
        if (msg.type === "mse") {
          sb = ms.addSourceBuffer(msg.value);
          sb.mode = "segments";
          sb.addEventListener("updateend", () => {
            pump();
            trim();
          });
          this.setStatus("playing", msg.value);
        } else if (msg.type === "error") {
          lastError = msg.value;
          this.setStatus("error", msg.value);
          // MJPEG helps when MSE cannot carry the codecs, not when the stream does not exist: keep
          // the server's message on screen then.
          if (this.modes.includes("mjpeg") && !sb && !/not found/i.test(msg.value)) {
            this.stop();
            this.startMJPEG();
          }
        }
        return;
      }
      pending.push(new Uint8Array(ev.data));
      pendingBytes += ev.data.byteLength;
      // Bounded staging while the SourceBuffer is busy: drop the backlog rather than grow forever.
      if (pendingBytes > 8 * 1024 * 1024) {
        this.setStatus("error", "player too slow; reconnecting");
        this.scheduleReconnect();
        return;
      }
      pump();
    };
    ws.onclose = () => {
      this.setStatus("closed", lastError);
      this.scheduleReconnect();
    };
    this.video.play().catch(() => {});
  }

  startHLS() {
    this.mode = "hls";
    // fMP4 segments (`&mp4`): Safari plays H.265 over HLS only in fMP4, and H.264 + AAC either way.
    this.video.src = this.httpURL("stream.m3u8") + "&mp4";
    this.video.play().catch(() => {});
    this.setStatus("playing");
  }

  startMJPEG() {
    this.mode = "mjpeg";
    this.video.style.display = "none";
    this.img = document.createElement("img");
    this.img.style.cssText = "display:block;width:100%;height:100%;object-fit:contain;background:#000";
    this.img.src = this.httpURL("stream.mjpeg");
    this.img.onerror = () => {
      this.setStatus("error", "MJPEG stream failed");
      this.scheduleReconnect();
    };
    this.prepend(this.img);
    this.setStatus("playing");
  }
}

// "H264" or "H264, OPUS": the codecs the server answered with, for the status line.
function answerCodecs(sdp) {
  const names = [];
  let open = false;
  let section = [];
  const flush = () => {
    if (open) for (const n of section) if (!names.includes(n)) names.push(n);
    section = [];
  };
  for (const line of String(sdp).split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      flush();
      open = !/^m=\S+ 0 /.test(line);
    }
    if (line === "a=inactive") open = false;
    const m = /^a=rtpmap:\d+ ([^/]+)/.exec(line);
    if (m) section.push(m[1]);
  }
  flush();
  return names.join(", ");
}

// Whether the server's answer receives audio (its audio section is recvonly or sendrecv).
function answerReceivesAudio(sdp) {
  let audio = false;
  let port0 = false;
  let dir = "sendrecv";
  for (const line of String(sdp).split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      if (audio) break;
      audio = line.startsWith("m=audio");
      port0 = /^m=\S+ 0 /.test(line);
      dir = "sendrecv";
    } else if (audio && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) {
      dir = line.slice(2);
    }
  }
  return audio && !port0 && (dir === "recvonly" || dir === "sendrecv");
}

function concat(chunks) {
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

if (!customElements.get("video-stream")) customElements.define("video-stream", VideoStream);
