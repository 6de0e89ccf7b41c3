import { describe, expect, it } from "bun:test";
import { hasTool } from "../../../tests/_support/process.ts";
import { buildFfmpegArgs } from "./args.ts";
import { autoProbeOrder, HardwareProber, hardwareProbes, parseEncoderList } from "./hardware_probe.ts";
import { type ProbeRun, runProbe } from "./run_probe.ts";
import { ffmpegTemplates } from "./templates.ts";

const hasFf = await hasTool("ffmpeg");

describe("hardware probes", () => {
  it("lists go2rtc's probes per system, and tries NVIDIA before VAAPI for a bare #hardware", () => {
    expect(hardwareProbes("linux", "x64").map((p) => `${p.codec}/${p.engine}`)).toEqual([
      "h264/vaapi",
      "h265/vaapi",
      "mjpeg/vaapi",
      "h264/cuda",
      "h265/cuda",
    ]);
    expect(hardwareProbes("linux", "arm64").map((p) => p.encoder)).toEqual([
      "h264_v4l2m2m",
      "hevc_v4l2m2m",
      "h264_rkmpp_encoder",
      "hevc_rkmpp_encoder",
    ]);
    expect(hardwareProbes("darwin", "arm64").map((p) => p.engine)).toEqual(["videotoolbox", "videotoolbox"]);
    expect(hardwareProbes("win32", "x64").map((p) => p.encoder)).toContain("h264_qsv");
    expect(autoProbeOrder("linux", "x64", "h264").map((p) => p.engine)).toEqual(["cuda", "vaapi"]);
    expect(autoProbeOrder("linux", "x64", "mjpeg").map((p) => p.engine)).toEqual(["vaapi"]);
    expect(autoProbeOrder("linux", "x64", "h265")).toEqual([]);
    const vaapi = hardwareProbes("linux", "x64")[0].args.join(" ");
    expect(vaapi).toBe(
      "-hide_banner -init_hw_device vaapi -f lavfi -i testsrc2 -t 1 -vf format=nv12,hwupload -c h264_vaapi -f null -",
    );
  });

  it("a probe that hangs is killed after timeoutMs and reported as such; one that cannot start says why", async () => {
    const hung = await runProbe("/bin/sh", ["-c", "echo started; exec sleep 30"], { timeoutMs: 300 });
    expect(hung).toEqual({ ok: false, output: "started\n", reason: "did not finish within 300 ms" });
    const missing = await runProbe("strom-no-such-ffmpeg", ["-version"]);
    expect(missing.ok).toBe(false);
    expect(missing.reason).toContain("strom-no-such-ffmpeg");
  });

  it("reads the encoder names of ffmpeg -encoders", () => {
    const names = parseEncoderList(
      "Encoders:\n V..... = Video\n ------\n V....D libx264              libx264 H.264\n" +
        " V....D h264_vaapi           H.264/AVC (VAAPI) (codec h264)\n A....D aac                  AAC\n",
    );
    expect([...names]).toEqual(["libx264", "h264_vaapi", "aac"]);
  });

  it.skipIf(!hasFf)(
    "probes the real ffmpeg: an encoder not built in is not run, each probe runs once",
    async () => {
      const runs: string[] = [];
      const counting = (bin: string, args: readonly string[]): Promise<ProbeRun> => {
        runs.push(args.join(" "));
        return runProbe(bin, args);
      };
      // Debian's ffmpeg has no Rockchip encoder: the ARM list tells it without running it.
      const arm = new HardwareProber({ bin: "ffmpeg", run: counting, platform: "linux", arch: "arm64" });
      const results = await arm.probeAll();
      const rkmpp = results.find((r) => r.encoder === "h264_rkmpp_encoder")!;
      expect(rkmpp.ok).toBe(false);
      expect(rkmpp.reason).toBe("h264_rkmpp_encoder is not in this ffmpeg build (ffmpeg -encoders)");
      expect(runs.filter((r) => r.includes("rkmpp"))).toEqual([]);
      expect(runs.filter((r) => r.includes("-encoders")).length).toBe(1);
      // Asked again, and concurrently: nothing runs twice.
      const before = runs.length;
      await Promise.all([arm.probeAll(), arm.engineFor("h264"), arm.engineFor("h264")]);
      expect(runs.length).toBe(before);
      expect(arm.cached("h264")).toBe(results.find((r) => r.codec === "h264" && r.ok)?.engine ?? "software");

      // x86: every probe has an outcome; a failure carries ffmpeg's own last words.
      const x86 = new HardwareProber({ bin: "ffmpeg", run: runProbe, platform: "linux", arch: "x64" });
      for (const r of await x86.probeAll()) {
        if (!r.ok) expect(r.reason!.length).toBeGreaterThan(10);
      }
    },
    60_000,
  );

  it("a bare #hardware takes the first engine that works, and keeps software when none does", async () => {
    // ffmpeg's answers for a machine with Intel graphics and no NVIDIA card (what runs is checked
    // against the real probes above; here only the choice is).
    const intel = (_bin: string, args: readonly string[]): Promise<ProbeRun> => {
      const line = args.join(" ");
      if (line.includes("-encoders")) {
        return Promise.resolve({ ok: true, output: " V....D h264_vaapi  x\n V....D h264_nvenc  x\n" });
      }
      if (line.includes("h264_vaapi")) return Promise.resolve({ ok: true, output: "" });
      return Promise.resolve({ ok: false, output: "Cannot load libcuda.so.1\n", reason: "exit code 1" });
    };
    const p = new HardwareProber({ bin: "ffmpeg", run: intel, platform: "linux", arch: "x64" });
    expect(p.cached("h264")).toBeUndefined();
    expect(await p.engineFor("h264")).toBe("vaapi");
    const templates = ffmpegTemplates({});
    const hw = buildFfmpegArgs("ffmpeg:rtsp://cam/1#video=h264#hardware", {
      templates,
      probeHardware: (c) => p.cached(c),
    });
    expect(hw.commandLine).toContain("-c:v h264_vaapi");
    expect(hw.commandLine).toContain("-hwaccel vaapi");
    // mjpeg_vaapi is not in that build: MJPEG stays in software.
    expect(await p.engineFor("mjpeg")).toBe("software");
    const sw = buildFfmpegArgs("ffmpeg:rtsp://cam/1#video=mjpeg#hardware", {
      templates,
      probeHardware: (c) => p.cached(c),
    });
    expect(sw.commandLine).not.toContain("vaapi");
    const nvenc = (await p.probeAll()).find((r) => r.encoder === "h264_nvenc")!;
    expect(nvenc).toMatchObject({ ok: false, reason: "exit code 1: Cannot load libcuda.so.1" });
  });
});
