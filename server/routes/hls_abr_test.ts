import { describe, expect, it } from "bun:test";
import { type Logger, silentLogger } from "../../lib/core/log.ts";
import { abrSettings } from "./hls_abr.ts";

function capture(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (msg) => void warnings.push(msg), child: () => log };
  return { log, warnings };
}

describe("adaptive bitrate settings", () => {
  it("hls.variants and hls.max_bitrate; nothing set is off", () => {
    const { log, warnings } = capture();
    expect(abrSettings({ hls: { variants: ["480p", "240"], max_bitrate: 1_000_000 } } as never, log)).toEqual(
      {
        levels: [480, 240],
        maxBitrate: 1_000_000,
      },
    );
    expect(abrSettings({} as never, log)).toBeUndefined();
    expect(abrSettings({ hls: { variants: [] } } as never, log)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it("the seed article's edge.bandwidth with adaptive: true; hls.* wins; adaptive: false is off", () => {
    const { log } = capture();
    const bandwidth = { adaptive: true, max_bitrate: 2_000_000, quality_levels: ["240p", "480p", "720p"] };
    expect(abrSettings({ edge: { bandwidth } } as never, log)).toEqual({
      levels: [240, 480, 720],
      maxBitrate: 2_000_000,
    });
    expect(
      abrSettings({ edge: { bandwidth }, hls: { variants: ["360p"], max_bitrate: 500_000 } } as never, log),
    )
      .toEqual({ levels: [360], maxBitrate: 500_000 });
    expect(abrSettings({ edge: { bandwidth: { ...bandwidth, adaptive: false } } } as never, log))
      .toBeUndefined();
  });

  it("a level that does not read is warned about naming the key, and left out", () => {
    const { log, warnings } = capture();
    expect(abrSettings({ hls: { variants: ["480p", "hd"] } } as never, log)).toEqual({
      levels: [480],
      maxBitrate: undefined,
    });
    expect(warnings).toEqual([
      expect.stringMatching(/^hls\.variants: HLS variant "hd" is not a picture height.*; left out$/),
    ]);
    const edge = capture();
    abrSettings({ edge: { bandwidth: { adaptive: true, quality_levels: ["4k"] } } } as never, edge.log);
    expect(edge.warnings).toEqual([
      expect.stringMatching(/^edge\.bandwidth\.quality_levels: HLS variant "4k"/),
    ]);
  });
});
