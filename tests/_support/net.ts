/**
 * Free loopback ports for tests, and whether something listens on one.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";

/** The lowest port {@link freePort} picks when it can stay below the kernel's ephemeral range. */
const LOWEST = 20_000;

/** The first port of the kernel's ephemeral range (Linux), or undefined where it cannot be read. */
function ephemeralLow(): number | undefined {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : undefined;
  } catch {
    return undefined;
  }
}

/** Listens on 127.0.0.1:`port` (0: the kernel picks), closes, and gives the port, or undefined when taken. */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", (err: Error & { code?: string }) => {
      if (port !== 0 && (err.code === "EADDRINUSE" || err.code === "EACCES")) resolve(undefined);
      else reject(err);
    });
    srv.listen(port, "127.0.0.1", () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, from below the kernel's ephemeral range when
 * that range can be read. A port from inside it (what listening on port 0 gives) can be taken, between
 * this check and the test's own listen, as the local port of any outgoing connection (ffmpeg, a
 * client, the server's own dials): CI saw `EADDRINUSE` that way (2026-12-05, a Deno run).
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  if (low !== undefined && low > LOWEST + 1000) {
    for (let i = 0; i < 64; i++) {
      const port = await tryListen(LOWEST + Math.floor(Math.random() * (low - LOWEST)));
      if (port !== undefined) return port;
    }
  }
  const port = await tryListen(0);
  if (port === undefined) throw new Error("no free TCP port on 127.0.0.1");
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` (one attempt, closed at once). */
export function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Sends raw bytes on a fresh TCP connection to 127.0.0.1:`port` and gives what came back, once the
 * server closed the connection, or (with `untilHead`) once a reply head ended with an empty line, or
 * after `timeoutMs`; never rejects.
 */
export function rawExchange(
  port: number,
  bytes: string | Uint8Array,
  options: { untilHead?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, "127.0.0.1");
    let reply = "";
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(reply);
    };
    const timer = setTimeout(done, options.timeoutMs ?? 1000);
    sock.on("data", (d) => {
      reply += new TextDecoder().decode(d);
      if (options.untilHead && reply.includes("\r\n\r\n")) done();
    });
    sock.on("close", done);
    sock.on("error", done);
    sock.write(bytes);
  });
}
