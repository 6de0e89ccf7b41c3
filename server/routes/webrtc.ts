/**
 * WebRTC signalling, as go2rtc:
 *
 * - `/api/ws?src=` messages: `webrtc/offer` (raw SDP) answered by `webrtc/answer`; `webrtc`
 *   (`{type: "offer", sdp, ice_servers?}`) answered by `webrtc` (`{type: "answer", sdp}`); trickle
 *   `webrtc/candidate` both ways (a candidate string; "" ends the peer's candidates); failures as
 *   `{"type": "error", "value": "..."}`. One session per WebSocket, closed with it.
 * - `POST /api/webrtc?src=`: the body's type picks the form: `application/sdp` is WHEP (201, the
 *   answer with every candidate, `Location: webrtc?id=<session>`), `application/json`
 *   `{type, sdp, ice_servers?}` answers `{type: "answer", sdp}`, a form with base64 `data=` answers
 *   base64, anything else is raw SDP in and out. Every form answers with the session's `Location`
 *   (go2rtc gives one to WHIP only); `DELETE /api/webrtc?id=` ends that session.
 * - Ingest: `POST /api/webrtc?dst=` (WHIP: `application/sdp` 201 + `Location`, or JSON
 *   `{type, sdp}`) and `/api/ws?dst=` (`webrtc/offer` or `webrtc` from a browser's camera and
 *   microphone, trickle both ways) publish into the stream, like RTSP/RTMP publishing; they need
 *   the `publish` permission on it (403 otherwise) and start no program.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { base64ToBytes, bytesToBase64 } from "../../lib/core/bytes.ts";
import { StreamDisabledError } from "../../lib/core/errors.ts";
import { type RequestUser, requestUser } from "../auth.ts";
import type { AppContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import type { IceServer, PlayOptions, WebRtcServer, WebRtcSession } from "../../lib/protocol/webrtc/mod.ts";
import { WebRtcCodecError, WebRtcOfferError, WebRtcPeerLimitError } from "../../lib/protocol/webrtc/mod.ts";
import { WebRtcIngestCodecError } from "../../lib/protocol/webrtc/producer.ts";
import type { PublishOptions, WebRtcIngest, WebRtcIngestSession } from "../../lib/protocol/webrtc/whip.ts";
import { peerOf, streamOf } from "./output_common.ts";
import { playRemote, type RemoteWebRtcSession } from "./webrtc_remote.ts";
import type { WsConnection, WsHandlers, WsMessage } from "./ws.ts";

/** Per-WebSocket signalling state: the session, and candidates that came before it. */
interface WsState {
  session?: WebRtcSession | WebRtcIngestSession | RemoteWebRtcSession;
  early: string[];
  closed: boolean;
}

/**
 * Registers `/api/webrtc` and the `/api/ws` WebRTC message handlers.
 *
 * @example
 * ```ts
 * webrtcRoutes(app, ctx, wsHandlers, new WebRtcServer({ maxPeers: 50 }));
 * ```
 */
export function webrtcRoutes(
  app: Hono,
  ctx: AppContext,
  wsHandlers: WsHandlers,
  webrtc: WebRtcServer,
  ingest?: WebRtcIngest,
): void {
  const log = ctx.log.child({ module: "webrtc" });
  const states = new WeakMap<WsConnection, WsState>();
  const stateOf = (conn: WsConnection): WsState => {
    let state = states.get(conn);
    if (!state) {
      const s: WsState = { early: [], closed: false };
      states.set(conn, s);
      conn.onClose(() => {
        s.closed = true;
        s.session?.close("socket closed");
      });
      state = s;
    }
    return state;
  };

  const offerHandler = async (message: WsMessage, conn: WsConnection) => {
    const v2 = message.type === "webrtc";
    let sdp: string;
    let iceServers: IceServer[] | undefined;
    if (v2) {
      const value = message.value as { type?: unknown; sdp?: unknown; ice_servers?: unknown } | undefined;
      if (!value || typeof value !== "object" || typeof value.sdp !== "string") {
        throw new WebRtcOfferError('the "webrtc" message needs a value {"type": "offer", "sdp": "v=0..."}');
      }
      if (value.type !== undefined && value.type !== "offer") {
        throw new WebRtcOfferError(`the "webrtc" message has type "${String(value.type)}"; only "offer" is accepted`);
      }
      sdp = value.sdp;
      iceServers = parseIceServers(value.ice_servers);
    } else {
      if (typeof message.value !== "string") {
        throw new WebRtcOfferError('the "webrtc/offer" message needs the SDP offer as its string value');
      }
      sdp = message.value;
    }
    const publishing = !conn.query.get("src") && !!conn.query.get("dst");
    const stream = publishing ? streamOf(ctx, conn.query.get("dst"), conn.user, "publish") : wsStream(ctx, conn);
    if (publishing && !ingest) throw new ApiError(501, "WebRTC ingest is not enabled on this server.", "NotImplemented");
    const state = stateOf(conn);
    state.session?.close("replaced");
    state.session = undefined;
    const options: PlayOptions & PublishOptions = {
      onCandidate: (candidate) => conn.send({ type: "webrtc/candidate", value: candidate }),
      onClose: (reason) =>
        log.debug(publishing ? "ws webrtc publisher ended" : "ws webrtc session ended", { stream: stream.name, reason }),
      peer: { protocol: "ws", remoteAddr: conn.remoteAddr, userAgent: conn.userAgent },
      // Two-way audio: the camera came back without its backchannel; the player's talk button says so.
      onBackchannelLost: (error) => conn.send({ type: "error", value: error.message }),
    };
    if (iceServers) options.iceServers = iceServers;
    const session = publishing
      ? await ingest!.publish(stream, sdp, options)
      : (await remotePlay(conn, stream.name, sdp, iceServers)) ?? (await webrtc.play(stream, sdp, options));
    traceSdp(log, stream.name, sdp, session.answer);
    if (state.closed) {
      session.close("socket closed");
      return;
    }
    state.session = session;
    if (v2) conn.send({ type: "webrtc", value: { type: "answer", sdp: session.answer } });
    else conn.send({ type: "webrtc/answer", value: session.answer });
    for (const c of state.early.splice(0)) await addCandidate(session, c, log);
  };
  /**
   * `cluster.load_balancer`: the session from the node the balancer picks, when that is another
   * one (its answer's candidates take the media there); undefined serves the viewer here, also when
   * that node does not take the offer (logged).
   */
  const remotePlay = async (conn: WsConnection, stream: string, sdp: string, iceServers: IceServer[] | undefined) => {
    if (conn.query.has("cluster_hop")) return undefined;
    const target = ctx.viewerRedirect?.webrtc?.(stream, conn.remoteAddr);
    if (!target) return undefined;
    try {
      const remote = await playRemote(target, stream, sdp, iceServers, log);
      log.debug("ws webrtc viewer served by another node", { stream, node: target.api, session: remote.location });
      return remote;
    } catch (error) {
      log.warn("another node did not take a ws webrtc viewer; serving it here", { stream, error: String((error as Error)?.message ?? error) });
      return undefined;
    }
  };
  wsHandlers.set("webrtc/offer", offerHandler);
  wsHandlers.set("webrtc", offerHandler);
  wsHandlers.set("webrtc/candidate", async (message, conn) => {
    const value = message.value;
    const text = typeof value === "string"
      ? value
      : value && typeof value === "object" && typeof (value as { candidate?: unknown }).candidate === "string"
      ? (value as { candidate: string }).candidate
      : undefined;
    if (text === undefined) {
      throw new WebRtcOfferError('the "webrtc/candidate" message needs a candidate string as its value');
    }
    const state = stateOf(conn);
    if (!state.session) {
      if (state.early.length < 64) state.early.push(text);
      return;
    }
    await addCandidate(state.session, text, log);
  });

  app.post("/api/webrtc", async (c) => {
    const user = requestUser(c);
    if (!c.req.query("src")) {
      if (c.req.query("dst")) return whip(c, user);
      throw new ApiError(
        400,
        "Missing query parameter src= (play) or dst= (publish): POST /api/webrtc?src=camera1 with an SDP offer.",
        "BadRequest",
      );
    }
    const stream = streamOf(ctx, c.req.query("src"), user);
    const mediaType = mediaTypeOf(c);
    const { offer, iceServers } = await readOffer(c, mediaType, true);
    const options: PlayOptions = { trickle: false, peer: peerOf(ctx, c, "http") };
    if (iceServers) options.iceServers = iceServers;
    const session = await playOrReject(() => webrtc.play(stream, offer, options));
    const answer = session.answer;
    traceSdp(log, stream.name, offer, answer);
    // Every form gets the session's Location (go2rtc gives it to WHIP only), so DELETE can end it;
    // absolute for a viewer another node sent here, whose client may resolve it against that node.
    const location = c.req.query("cluster_hop") !== undefined
      ? new URL(`webrtc?id=${session.id}`, c.req.url).href
      : `webrtc?id=${session.id}`;
    if (mediaType === "application/json") {
      c.header("Location", location);
      return c.json({ type: "answer", sdp: answer });
    }
    if (mediaType === "application/x-www-form-urlencoded") {
      return c.body(bytesToBase64(new TextEncoder().encode(answer)), 200, { "Content-Type": mediaType, Location: location });
    }
    if (mediaType === "application/sdp") {
      return c.body(answer, 201, { "Content-Type": "application/sdp", Location: location, ETag: `"${session.id}"` });
    }
    return c.body(answer, 200, { "Content-Type": mediaType || "application/sdp", Location: location });
  });

  app.delete("/api/webrtc", (c) => {
    const id = c.req.query("id");
    if (!id) throw new ApiError(400, "Missing query parameter id=: the Location of the session.", "BadRequest");
    const session = webrtc.get(id);
    const user = requestUser(c);
    const publishing = session ? undefined : ingest?.get(id);
    if (publishing) {
      // Ending a publish needs the same right as starting it (a disabled stream still lets it end).
      try {
        streamOf(ctx, publishing.stream.name, user, "publish");
      } catch (error) {
        if (!(error instanceof StreamDisabledError)) throw error;
      }
      publishing.close("deleted");
      return c.body(null, 200);
    }
    if (!session) throw new ApiError(404, `No WebRTC session "${id}" (it ended already, or never existed).`, "NotFound");
    // The same access as the stream it plays.
    streamOf(ctx, session.stream.name, user);
    session.close("deleted");
    return c.body(null, 200);
  });
  app.patch("/api/webrtc", (c) =>
    c.json({ error: "MethodNotAllowed", message: "Trickle ICE over PATCH is not supported; send a complete offer." }, 405));
  app.on("OPTIONS", "/api/webrtc", (c) => c.body(null, 204));

  /** WHIP: `POST /api/webrtc?dst=` with the publisher's offer. */
  async function whip(c: Context, user: RequestUser | undefined): Promise<Response> {
    const stream = streamOf(ctx, c.req.query("dst"), user, "publish");
    if (!ingest) throw new ApiError(501, "WebRTC ingest is not enabled on this server.", "NotImplemented");
    const mediaType = mediaTypeOf(c);
    const { offer, iceServers } = await readOffer(c, mediaType, false);
    const options: PublishOptions = { trickle: false, peer: { ...peerOf(ctx, c, "whip") } };
    if (iceServers) options.iceServers = iceServers;
    let session: WebRtcIngestSession;
    try {
      session = await ingest.publish(stream, offer, options);
    } catch (error) {
      if (error instanceof WebRtcOfferError) throw new ApiError(400, error.message, error.name);
      if (error instanceof WebRtcIngestCodecError) throw new ApiError(415, error.message, error.name);
      if (error instanceof WebRtcPeerLimitError) throw new ApiError(503, error.message, error.name);
      throw error;
    }
    traceSdp(log, stream.name, offer, session.answer);
    const location = `webrtc?id=${session.id}`;
    if (mediaType === "application/json") {
      c.header("Location", location);
      return c.json({ type: "answer", sdp: session.answer }, 201);
    }
    return c.body(session.answer, 201, { "Content-Type": "application/sdp", Location: location, ETag: `"${session.id}"` });
  }

  async function playOrReject(play: () => Promise<WebRtcSession>): Promise<WebRtcSession> {
    try {
      return await play();
    } catch (error) {
      if (error instanceof WebRtcOfferError) throw new ApiError(400, error.message, error.name);
      if (error instanceof WebRtcCodecError) throw new ApiError(415, error.message, error.name);
      if (error instanceof WebRtcPeerLimitError) throw new ApiError(503, error.message, error.name);
      throw error;
    }
  }
}

function wsStream(ctx: AppContext, conn: WsConnection) {
  if (!conn.query.get("src") && conn.query.get("dst")) {
    throw new ApiError(501, "Publishing over WebRTC (/api/ws?dst=) is not implemented yet.", "NotImplemented");
  }
  return streamOf(ctx, conn.query.get("src"), conn.user);
}

/** Signalling trace (log.webrtc: trace), also written with debug.dump_sdp: the offer and the answer. */
function traceSdp(log: AppContext["log"], stream: string, offer: string, answer: string): void {
  log.trace("webrtc offer", { dump: "sdp", stream, sdp: offer });
  log.trace("webrtc answer", { dump: "sdp", stream, sdp: answer });
}

/** The request's Content-Type without parameters, lower-cased ("" when absent). */
function mediaTypeOf(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * The SDP offer of a WHEP/WHIP POST: `{"type":"offer","sdp":...,"ice_servers":[...]}` as JSON, the
 * base64 form field `data=` (go2rtc's form; only where `form` is true), or the body as it is.
 */
async function readOffer(
  c: Context,
  mediaType: string,
  form: boolean,
): Promise<{ offer: string; iceServers?: IceServer[] }> {
  if (mediaType === "application/json") {
    let body: { sdp?: unknown; ice_servers?: unknown };
    try {
      body = await c.req.json();
    } catch (error) {
      throw new ApiError(400, `Cannot parse the JSON body: ${(error as Error).message}`, "BadRequest");
    }
    if (!body || typeof body.sdp !== "string") {
      throw new ApiError(400, 'The JSON body needs {"type": "offer", "sdp": "v=0..."}.', "BadRequest");
    }
    return { offer: body.sdp, iceServers: parseIceServers(body.ice_servers) };
  }
  if (form && mediaType === "application/x-www-form-urlencoded") {
    const fields = await c.req.parseBody();
    const data = typeof fields.data === "string" ? fields.data : "";
    try {
      return { offer: new TextDecoder().decode(base64ToBytes(data)) };
    } catch {
      throw new ApiError(400, "The form field data= must be the SDP offer in base64.", "BadRequest");
    }
  }
  return { offer: await c.req.text() };
}

async function addCandidate(
  session: WebRtcSession | WebRtcIngestSession | RemoteWebRtcSession,
  candidate: string,
  log: AppContext["log"],
): Promise<void> {
  try {
    await session.addCandidate(candidate);
  } catch (error) {
    log.debug("remote candidate rejected", { error: String((error as Error)?.message ?? error) });
    throw error;
  }
}

/** `ice_servers` from a client's message, as go2rtc accepts them (`urls` string or list). */
function parseIceServers(value: unknown): IceServer[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new WebRtcOfferError("ice_servers must be a list of {urls, username?, credential?}");
  return value.map((s, i) => {
    const server = s as { urls?: unknown; username?: unknown; credential?: unknown };
    const urls = typeof server?.urls === "string" ? [server.urls] : server?.urls;
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === "string")) {
      throw new WebRtcOfferError(`ice_servers[${i}].urls must be a string or a list of strings`);
    }
    const out: IceServer = { urls };
    if (typeof server.username === "string") out.username = server.username;
    if (typeof server.credential === "string") out.credential = server.credential;
    return out;
  });
}

