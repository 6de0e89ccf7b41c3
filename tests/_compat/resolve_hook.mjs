// Node module resolve hook: maps the `bun:test` specifier onto the node:test + expect layer.
const target = new URL("./bun_test.ts", import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === "bun:test") return { url: target, shortCircuit: true, format: "module" };
  return next(specifier, context);
}
