import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { renderConfigDocs } from "../../scripts/gen_config_docs.ts";
import { WEB_ASSETS } from "../../server/web/assets.ts";

describe("generated files are current", () => {
  it("docs/config.md matches the config schema", () => {
    const current = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
    expect(current === renderConfigDocs()).toBe(true); // else: node --import tsx scripts/gen_config_docs.ts
  });

  it("server/web/assets.ts embeds the current web UI files", () => {
    for (const [name, asset] of Object.entries(WEB_ASSETS)) {
      const onDisk = readFileSync(new URL(`../../server/web/${name}`, import.meta.url), "utf8");
      expect(`${name}: ${asset.body === onDisk}`).toBe(`${name}: true`); // else: node scripts/embed_web.mjs
    }
  });
});
