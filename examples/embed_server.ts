/**
 * Embeds the whole strom server in your own program: loads a config (here inline YAML), serves the
 * API, web UI and RTSP, and stops cleanly.
 *
 *   node --import tsx examples/embed_server.ts
 */
import { startServer } from "../server/mod.ts";

const server = await startServer({
  configSources: ['{"api": {"listen": "127.0.0.1:0"}, "rtsp": {"listen": "127.0.0.1:0"}, "streams": {"demo": "demo:"}}'],
});
console.log("strom is up:", server.urls);
const health = await fetch(`${server.urls[0]}/api/health`).then((r) => r.json());
console.log("health:", health);
await server.close();
