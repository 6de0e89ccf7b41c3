// Loaded with `node --import ./tests/_compat/register.mjs`, after tsx, so test files that import
// "bun:test" run unchanged on Node.
import { register } from "node:module";

register("./resolve_hook.mjs", import.meta.url);
