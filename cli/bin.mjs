#!/usr/bin/env node
// npm bin entry: runs the TypeScript sources on Node through tsx (Deno and Bun run cli/main.ts directly).
import process from "node:process";
import { register } from "tsx/esm/api";

register();
const { run } = await import("./main.ts");
// Exit explicitly: a finished command must not linger on a stray timer or socket.
process.exit(await run(process.argv.slice(2)));
