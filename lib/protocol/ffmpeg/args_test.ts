import { describe, expect, it } from "bun:test";
import { buildFfmpegArgs, FfmpegArgsError, type FfmpegArgsOptions, mosaicGrid, tourGraph, tourSeconds } from "./args.ts";
import { ffmpegTemplates } from "./templates.ts";
import { parseFfmpegVersion } from "./version.ts";

// Golden command lines from go2rtc's internal/ffmpeg/ffmpeg_test.go (TestParseArgs*, TestDeckLink,
// TestDrawText, TestVersion). Differences, each deliberate:
// - the h265 preset ends in `-pix_fmt:v yuv420p`: go2rtc's template has it, its (unrun) test does not;
// - "ffmpeg:" is stripped from the URL, so its `ffmpeg:test.mp4#raw=...` case reads test.mp4;
// - device inputs take the OS as an option (go2rtc's tests ran the Windows dshow branch);
// - single AAC / G.711 audio goes to the ADTS / WAV pipe, as go2rtc's code does (its test is older);
// - the disabled (`_Test...`) hardware cases are rewritten from go2rtc's MakeHardware logic.
const OUT = "-user_agent ffmpeg/go2rtc -rtsp_transport tcp -f rtsp {output}";
const H264 =
  "-c:v libx264 -g 50 -profile:v high -level:v 4.1 -preset:v superfast -tune:v zerolatency -pix_fmt:v yuv420p";
const H265 =
  "-c:v libx265 -g 50 -profile:v main -level:v 5.1 -preset:v superfast -tune:v zerolatency -pix_fmt:v yuv420p";
const RTSP_IN =
  "-fflags nobuffer -flags low_delay -timeout 5000000 -user_agent go2rtc/ffmpeg -rtsp_flags prefer_tcp";
const HTTP_IN = "-fflags nobuffer -flags low_delay";
const VAAPI_IN = "-hwaccel vaapi -hwaccel_output_format vaapi -hwaccel_flags allow_profile_mismatch";
const VAAPI_H264 = "-c:v h264_vaapi -g 50 -bf 0 -profile:v high -level:v 4.1 -sei:v 0";
const VAAPI_H265 = "-c:v hevc_vaapi -g 50 -bf 0 -profile:v main -level:v 5.1 -sei:v 0";

function line(url: string, options: FfmpegArgsOptions = {}): string {
  return buildFfmpegArgs(url, { templates: ffmpegTemplates(), ...options }).commandLine;
}

function cases(list: [string, string][], options: FfmpegArgsOptions = {}) {
  for (const [source, expected] of list) {
    it(source, () => expect(line(source, options)).toBe(expected));
  }
}

describe("buildFfmpegArgs: go2rtc TestParseArgsFile", () => {
  cases([
    ["/media/bbb.mp4", `ffmpeg -hide_banner -re -i /media/bbb.mp4 -c copy ${OUT}`],
    ["/media/bbb.mp4#video=h264", `ffmpeg -hide_banner -re -i /media/bbb.mp4 ${H264} -an ${OUT}`],
    [
      "/media/bbb.mp4#video=copy#audio=pcmu",
      `ffmpeg -hide_banner -re -i /media/bbb.mp4 -c:v copy -c:a pcm_mulaw -ar:a 8000 -ac:a 1 ${OUT}`,
    ],
    [
      "/media/bbb.mp4#video=h265#rotate=-90",
      `ffmpeg -hide_banner -re -i /media/bbb.mp4 ${H265} -an -vf "transpose=2" ${OUT}`,
    ],
    ["/media/bbb.mp4#video=mjpeg", `ffmpeg -hide_banner -re -i /media/bbb.mp4 -c:v mjpeg -an -f mjpeg -`],
    // go2rtc issue #509
    ["ffmpeg:test.mp4#raw=-ss 00:00:20", `ffmpeg -hide_banner -re -i test.mp4 -ss 00:00:20 -c copy ${OUT}`],
  ]);
});

describe("buildFfmpegArgs: go2rtc TestParseArgsDevice", () => {
  cases([
    [
      "device?video=0&video_size=1920x1080",
      `ffmpeg -hide_banner -f dshow -video_size 1920x1080 -i "video=0" -c copy ${OUT}`,
    ],
    [
      "device?video=0&framerate=20#video=h265",
      `ffmpeg -hide_banner -f dshow -framerate 20 -i "video=0" ${H265} -an ${OUT}`,
    ],
    [
      "device?video=FaceTime HD Camera&audio=Microphone (High Definition Audio Device)",
      `ffmpeg -hide_banner -f dshow -i "video=FaceTime HD Camera:audio=Microphone (High Definition Audio Device)" -c copy ${OUT}`,
    ],
  ], { platform: "windows" });

  it("splits a quoted device name into one argument", () => {
    const cmd = buildFfmpegArgs("device?video=FaceTime HD Camera", { platform: "windows" });
    expect(cmd.args).toEqual([
      "-hide_banner",
      "-f",
      "dshow",
      "-i",
      "video=FaceTime HD Camera",
      "-c",
      "copy",
      "-user_agent",
      "ffmpeg/go2rtc",
      "-rtsp_transport",
      "tcp",
      "-f",
      "rtsp",
      "{output}",
    ]);
  });

  it("uses v4l2 on Linux and passes MJPEG capture through to an MJPEG pipe", () => {
    const cmd = buildFfmpegArgs("device?video=/dev/video0&input_format=mjpeg&resolution=1280x720", {
      platform: "linux",
    });
    expect(cmd.commandLine).toBe(
      "ffmpeg -hide_banner -f v4l2 -input_format mjpeg -video_size 1280x720 -i /dev/video0 -c copy -f mjpeg -",
    );
    expect(cmd.output).toBe("mjpeg");
  });

  it("resolves device indexes from the device list", () => {
    expect(
      line("device?video=1#video=h264", {
        platform: "linux",
        devices: { video: ["/dev/video0", "/dev/video2"] },
      }),
    )
      .toBe(`ffmpeg -hide_banner -f v4l2 -i /dev/video2 ${H264} -an ${OUT}`);
    expect(
      line("device?audio=0&channels=1&sample_rate=16000#audio=opus", {
        platform: "linux",
        devices: { audio: ["default"] },
      }),
    )
      .toBe(
        `ffmpeg -hide_banner -f alsa -channels 1 -sample_rate 16000 -i default -c:a libopus -application:a lowdelay -min_comp 0 -vn ${OUT}`,
      );
    expect(
      line("device?video=0&audio=0", {
        platform: "darwin",
        devices: { video: ["FaceTime HD Camera"], audio: ["Mic"] },
      }),
    )
      .toBe(`ffmpeg -hide_banner -f avfoundation -i "FaceTime HD Camera:Mic" -c copy ${OUT}`);
  });

  it("rejects a device input without video or audio", () => {
    expect(() => buildFfmpegArgs("ffmpeg:device?framerate=20")).toThrow(FfmpegArgsError);
    expect(() => buildFfmpegArgs("ffmpeg:device?framerate=20")).toThrow(/device\?video=0/);
  });
});

describe("buildFfmpegArgs: go2rtc TestParseArgsIpCam", () => {
  cases([
    ["http://example.com", `ffmpeg -hide_banner ${HTTP_IN} -i http://example.com -c copy ${OUT}`],
    [
      "http://example.com#video=h264",
      `ffmpeg -hide_banner ${HTTP_IN} -i http://example.com ${H264} -an ${OUT}`,
    ],
    [
      "https://example.com#video=copy",
      `ffmpeg -hide_banner ${HTTP_IN} -i https://example.com -c:v copy -an ${OUT}`,
    ],
    [
      "rtsp://example.com",
      `ffmpeg -hide_banner -allowed_media_types video+audio ${RTSP_IN} -i rtsp://example.com -c copy ${OUT}`,
    ],
    [
      "rtsp://example.com#video=h265#width=1280#height=720",
      `ffmpeg -hide_banner -allowed_media_types video ${RTSP_IN} -i rtsp://example.com ${H265} -an -vf "scale=1280:720" ${OUT}`,
    ],
    [
      "rtsp://example.com#input=rtsp/udp",
      `ffmpeg -hide_banner -allowed_media_types video+audio -fflags nobuffer -flags low_delay -timeout 5000000 -user_agent go2rtc/ffmpeg -i rtsp://example.com -c copy ${OUT}`,
    ],
    [
      "rtmp://example.com#input=rtsp/udp",
      `ffmpeg -hide_banner -fflags nobuffer -flags low_delay -timeout 5000000 -user_agent go2rtc/ffmpeg -i rtmp://example.com -c copy ${OUT}`,
    ],
  ]);
});

describe("buildFfmpegArgs: go2rtc TestParseArgsAudio", () => {
  // go2rtc's test expects RTSP output for all of these, but its code (and so this port) sends a single
  // AAC audio to an ADTS pipe and a single G.711 audio to a WAV pipe; the test predates the pipes.
  const a = (codec: string, out = OUT) =>
    `ffmpeg -hide_banner -allowed_media_types audio ${RTSP_IN} -i rtsp:///example.com ${codec} -vn ${out}`;
  cases([
    ["rtsp:///example.com#audio=aac", a("-c:a aac", "-f adts -")],
    ["rtsp:///example.com#audio=aac/16000", a("-c:a aac -ar:a 16000 -ac:a 1", "-f adts -")],
    ["rtsp:///example.com#audio=opus", a("-c:a libopus -application:a lowdelay -min_comp 0")],
    ["rtsp:///example.com#audio=pcmu", a("-c:a pcm_mulaw -ar:a 8000 -ac:a 1", "-f wav -")],
    ["rtsp:///example.com#audio=pcmu/16000", a("-c:a pcm_mulaw -ar:a 16000 -ac:a 1", "-f wav -")],
    ["rtsp:///example.com#audio=pcmu/48000", a("-c:a pcm_mulaw -ar:a 48000 -ac:a 1", "-f wav -")],
    ["rtsp:///example.com#audio=pcma", a("-c:a pcm_alaw -ar:a 8000 -ac:a 1", "-f wav -")],
    ["rtsp:///example.com#audio=pcma/16000", a("-c:a pcm_alaw -ar:a 16000 -ac:a 1", "-f wav -")],
    ["rtsp:///example.com#audio=pcma/48000", a("-c:a pcm_alaw -ar:a 48000 -ac:a 1", "-f wav -")],
    ["rtsp:///example.com#audio=mp3", a("-c:a libmp3lame -q:a 8")],
  ]);
});

describe("buildFfmpegArgs: go2rtc TestParseArgsHwVaapi", () => {
  cases([
    [
      "http:///example.com#video=h264#hardware=vaapi",
      `ffmpeg -hide_banner ${VAAPI_IN} ${HTTP_IN} -i http:///example.com ${VAAPI_H264} -an -vf "format=vaapi|nv12,hwupload,scale_vaapi=out_color_matrix=bt709:out_range=tv:format=nv12" ${OUT}`,
    ],
    [
      "rtsp://example.com#video=h264#rotate=180#hardware=vaapi",
      `ffmpeg -hide_banner ${VAAPI_IN} -allowed_media_types video ${RTSP_IN} -i rtsp://example.com ${VAAPI_H264} -an -vf "format=vaapi|nv12,hwupload,transpose_vaapi=4,scale_vaapi=out_color_matrix=bt709:out_range=tv:format=nv12" ${OUT}`,
    ],
    [
      "rtsp://example.com#video=h265#width=1280#height=720#hardware=vaapi",
      `ffmpeg -hide_banner ${VAAPI_IN} -allowed_media_types video ${RTSP_IN} -i rtsp://example.com ${VAAPI_H265} -an -vf "format=vaapi|nv12,hwupload,scale_vaapi=1280:720" ${OUT}`,
    ],
    [
      "/media/bbb.mp4#video=mjpeg#hardware=vaapi",
      `ffmpeg -hide_banner ${VAAPI_IN} -re -i /media/bbb.mp4 -c:v mjpeg_vaapi -an -vf "format=vaapi|nv12,hwupload" -f mjpeg -`,
    ],
  ]);
  cases([
    [
      "device?video=0&video_size=1920x1080#video=h265#hardware=vaapi",
      `ffmpeg -hide_banner ${VAAPI_IN} -f dshow -video_size 1920x1080 -i "video=0" ${VAAPI_H265} -an -vf "format=vaapi|nv12,hwupload" ${OUT}`,
    ],
  ], { platform: "windows" });
  it("keeps scale and adds the colour fix for H.264 with a resize", () => {
    expect(line("rtsp://example.com#video=h264#width=1280#hardware=vaapi")).toContain(
      `-vf "format=vaapi|nv12,hwupload,scale_vaapi=1280:-1:out_color_matrix=bt709:out_range=tv:format=nv12"`,
    );
  });
});

describe("buildFfmpegArgs: go2rtc TestParseArgsHwRKMPP", () => {
  const rk = "-c:v h264_rkmpp_encoder -g 50 -bf 0 -profile:v high -level:v 4.1";
  cases([
    [
      "http://example.com#video=h264#hardware=rkmpp",
      `ffmpeg -hide_banner ${HTTP_IN} -i http://example.com ${rk} -an ${OUT}`,
    ],
    [
      "http://example.com#video=h264#rotate=180#hardware=rkmpp",
      `ffmpeg -hide_banner ${HTTP_IN} -i http://example.com ${rk} -an -vf "transpose=1,transpose=1" ${OUT}`,
    ],
    [
      "http://example.com#video=h264#height=320#hardware=rkmpp",
      `ffmpeg -hide_banner ${HTTP_IN} -i http://example.com ${rk} -height 320 -an ${OUT}`,
    ],
    [
      "http://example.com#video=h264#width=640#height=360#hardware=rkmpp",
      `ffmpeg -hide_banner ${HTTP_IN} -i http://example.com ${rk} -width 640 -height 360 -an ${OUT}`,
    ],
  ]);
});

describe("buildFfmpegArgs: other hardware engines", () => {
  cases([
    [
      "http://example.com#video=h264#hardware=v4l2m2m",
      `ffmpeg -hide_banner ${HTTP_IN} -i http://example.com -c:v h264_v4l2m2m -g 50 -bf 0 -an ${OUT}`,
    ],
    [
      "rtsp://example.com#video=h265#width=1280#height=720#hardware=v4l2m2m",
      `ffmpeg -hide_banner -allowed_media_types video ${RTSP_IN} -i rtsp://example.com -c:v hevc_v4l2m2m -g 50 -bf 0 -an -vf "scale=1280:720" ${OUT}`,
    ],
    [
      "http://example.com#video=h264#hardware=cuda",
      `ffmpeg -hide_banner -hwaccel cuda -hwaccel_output_format cuda ${HTTP_IN} -i http://example.com -c:v h264_nvenc -g 50 -bf 0 -profile:v high -level:v auto -preset:v p2 -tune:v ll -an ${OUT}`,
    ],
    [
      // CUDA cannot transpose: decode to nv12, filter on the CPU, upload.
      "rtsp://example.com#video=h264#rotate=180#hardware=cuda",
      `ffmpeg -hide_banner -hwaccel cuda -hwaccel_output_format nv12 -allowed_media_types video ${RTSP_IN} -i rtsp://example.com -c:v h264_nvenc -g 50 -bf 0 -profile:v high -level:v auto -preset:v p2 -tune:v ll -an -vf "transpose=1,transpose=1,hwupload" ${OUT}`,
    ],
    [
      "rtsp://example.com#video=h265#width=1280#height=720#hardware=cuda",
      `ffmpeg -hide_banner -hwaccel cuda -hwaccel_output_format cuda -allowed_media_types video ${RTSP_IN} -i rtsp://example.com -c:v hevc_nvenc -g 50 -bf 0 -profile:v main -level:v auto -an -vf "scale_cuda=1280:720" ${OUT}`,
    ],
    [
      "rtsp://example.com#video=h265#width=1280#height=720#hardware=dxva2",
      `ffmpeg -hide_banner -hwaccel dxva2 -hwaccel_output_format dxva2_vld -allowed_media_types video ${RTSP_IN} -i rtsp://example.com -c:v hevc_qsv -g 50 -bf 0 -profile:v main -level:v 5.1 -async_depth:v 1 -an -vf "hwmap=derive_device=qsv,format=qsv,scale_qsv=1280:720" ${OUT}`,
    ],
    [
      "/media/bbb.mp4#video=mjpeg#hardware=dxva2",
      `ffmpeg -hide_banner -hwaccel dxva2 -hwaccel_output_format dxva2_vld -re -i /media/bbb.mp4 -c:v mjpeg_qsv -an -vf "hwmap=derive_device=qsv,format=qsv" -f mjpeg -`,
    ],
    [
      "rtsp://example.com#video=h264#rotate=180#hardware=videotoolbox",
      `ffmpeg -hide_banner -hwaccel videotoolbox -hwaccel_output_format videotoolbox_vld -allowed_media_types video ${RTSP_IN} -i rtsp://example.com -c:v h264_videotoolbox -g 50 -bf 0 -profile:v high -level:v 4.1 -an -vf "transpose=1,transpose=1" ${OUT}`,
    ],
  ]);

  it("asks the probe for a bare #hardware, never for H.265", () => {
    const asked: string[] = [];
    const probeHardware = (codec: string) => {
      asked.push(codec);
      return "vaapi";
    };
    expect(line("http://x#video=h264#hardware", { probeHardware })).toContain(VAAPI_H264);
    expect(line("http://x#video=h265#hardware", { probeHardware })).toContain(H265);
    expect(asked).toEqual(["h264"]);
  });

  it("keeps software encoders without a probe or without a template for the engine", () => {
    expect(line("http://x#video=h264#hardware")).toBe(
      `ffmpeg -hide_banner ${HTTP_IN} -i http://x ${H264} -an ${OUT}`,
    );
    expect(line("http://x#video=mjpeg#hardware=rkmpp")).toBe(
      `ffmpeg -hide_banner ${HTTP_IN} -i http://x -c:v mjpeg -an -f mjpeg -`,
    );
  });
});

describe("buildFfmpegArgs: go2rtc TestDeckLink, TestDrawText, TestVersion", () => {
  it("DeckLink input through a literal #input template", () => {
    const cmd = buildFfmpegArgs(
      `DeckLink SDI (2)#video=h264#hardware=vaapi#input=-format_code Hp29 -f decklink -i "{input}"`,
    );
    expect(cmd.commandLine).toBe(
      `ffmpeg -hide_banner ${VAAPI_IN} -format_code Hp29 -f decklink -i "DeckLink SDI (2)" ${VAAPI_H264} -an -vf "format=vaapi|nv12,hwupload,scale_vaapi=out_color_matrix=bt709:out_range=tv:format=nv12" ${OUT}`,
    );
    expect(cmd.args).toContain("DeckLink SDI (2)");
  });

  cases([
    [
      "http:///example.com#video=h264#drawtext=fontsize=12",
      `ffmpeg -hide_banner ${HTTP_IN} -i http:///example.com ${H264} -an -vf "drawtext=fontsize=12:text='%{localtime\\:%Y-%m-%d %X}'" ${OUT}`,
    ],
    [
      "http:///example.com#video=h264#width=640#drawtext=fontsize=12",
      `ffmpeg -hide_banner ${HTTP_IN} -i http:///example.com ${H264} -an -vf "scale=640:-1,drawtext=fontsize=12:text='%{localtime\\:%Y-%m-%d %X}'" ${OUT}`,
    ],
    [
      "http:///example.com#video=h264#width=640#drawtext=fontsize=12#hardware=vaapi",
      `ffmpeg -hide_banner -hwaccel vaapi -hwaccel_output_format nv12 -hwaccel_flags allow_profile_mismatch ${HTTP_IN} -i http:///example.com ${VAAPI_H264} -an -vf "scale=640:-1,drawtext=fontsize=12:text='%{localtime\\:%Y-%m-%d %X}',hwupload" ${OUT}`,
    ],
  ]);

  it("passes the filter chain as one argument", () => {
    const cmd = buildFfmpegArgs("http://x#video=h264#width=640#drawtext=fontsize=12");
    const vf = cmd.args[cmd.args.indexOf("-vf") + 1];
    expect(vf).toBe("scale=640:-1,drawtext=fontsize=12:text='%{localtime\\:%Y-%m-%d %X}'");
  });

  it("adds -readrate_initial_burst for -re inputs from ffmpeg 6.1 on", () => {
    const burst = `ffmpeg -hide_banner -readrate_initial_burst 0.001 -re -i /media/bbb.mp4 -c copy ${OUT}`;
    const plain = `ffmpeg -hide_banner -re -i /media/bbb.mp4 -c copy ${OUT}`;
    expect(line("/media/bbb.mp4", { version: "6.1" })).toBe(burst);
    expect(line("/media/bbb.mp4", { version: "7.0.2" })).toBe(burst);
    expect(line("/media/bbb.mp4", { version: "60.16.100" })).toBe(burst);
    expect(line("/media/bbb.mp4", { version: "N-113412-g0b8e51b584" })).toBe(burst);
    expect(line("/media/bbb.mp4", { version: "6.0" })).toBe(plain);
    expect(line("/media/bbb.mp4", { version: "5.1.9-0+deb12u1" })).toBe(plain);
    expect(line("/media/bbb.mp4", { version: "60.3.100" })).toBe(plain);
    expect(line("/media/bbb.mp4")).toBe(plain);
    // Not for non -re inputs.
    expect(line("http://x", { version: "7.0" })).toBe(
      `ffmpeg -hide_banner ${HTTP_IN} -i http://x -c copy ${OUT}`,
    );
  });
});

describe("buildFfmpegArgs: inputs", () => {
  it("reads a configured stream back through our RTSP server, marking the reader as this source", () => {
    const hasStream = (name: string) => name === "cam";
    const cmd = buildFfmpegArgs("ffmpeg:cam#video=h264", { hasStream, rtspPort: 18554 });
    const input = `rtsp://127.0.0.1:18554/cam?video&source=${encodeURIComponent("ffmpeg:cam#video=h264")}`;
    expect(cmd.commandLine).toBe(`ffmpeg -hide_banner ${RTSP_IN} -i ${input} ${H264} -an ${OUT}`);
    expect(line("cam#audio=opus", { hasStream })).toContain("-i rtsp://127.0.0.1:8554/cam?audio&source=");
    expect(line("cam", { hasStream })).toContain("-i rtsp://127.0.0.1:8554/cam?video&audio&source=");
    expect(line("cam#video=copy#query=log_level=debug", { hasStream })).toMatch(/&log_level=debug -c:v copy/);
    // Without the stream, the same text is a file.
    expect(line("cam#video=h264")).toBe(`ffmpeg -hide_banner -re -i cam ${H264} -an ${OUT}`);
  });

  it("fills {timeout} from #timeout, the option, or the template", () => {
    expect(line("rtsp://x#timeout=10")).toContain("-timeout 10000000 ");
    expect(line("rtsp://x", { timeout: 3 })).toContain("-timeout 3000000 ");
    expect(line("rtsp://x", { templates: ffmpegTemplates({ timeout: 7 }) })).toContain("-timeout 7000000 ");
    expect(line("rtsp://x#input=-timeout {timeout} -i {input}")).toBe(
      `ffmpeg -hide_banner -allowed_media_types video+audio -timeout 5000000 -i rtsp://x -c copy ${OUT}`,
    );
  });

  it("prepends wallclock timestamps for #async", () => {
    expect(line("rtsp://x#async")).toBe(
      `ffmpeg -hide_banner -use_wallclock_as_timestamps 1 -async 1 -allowed_media_types video+audio ${RTSP_IN} -i rtsp://x -c copy ${OUT}`,
    );
  });

  it("passes unknown URL schemes to -i", () => {
    expect(line("srt://host:9000#video=copy")).toBe(
      `ffmpeg -hide_banner -i srt://host:9000 -c:v copy -an ${OUT}`,
    );
  });

  it("builds lavfi inputs for virtual? and tts? (go2rtc virtual_test)", () => {
    expect(line("virtual?video")).toBe(
      `ffmpeg -hide_banner -re -f lavfi -i testsrc=decimals=2:size=1920x1080 -c copy ${OUT}`,
    );
    expect(line("virtual?video=testsrc2&size=4K#video=h264")).toBe(
      `ffmpeg -hide_banner -re -f lavfi -i testsrc2=size=3840x2160 ${H264} -an ${OUT}`,
    );
    expect(line("virtual?video=testsrc&size=160x120&rate=10&duration=2&format=yuv420p#video=mjpeg")).toBe(
      "ffmpeg -hide_banner -re -f lavfi -i testsrc=size=160x120:rate=10:duration=2,format=yuv420p -c:v mjpeg -an -f mjpeg -",
    );
    const tts = buildFfmpegArgs("tts?text=hello world&voice=slt#audio=pcma");
    expect(tts.commandLine).toBe(
      `ffmpeg -hide_banner -re -f lavfi -i "flite=text='hello world':voice=slt" -c:a pcm_alaw -ar:a 8000 -ac:a 1 -vn -f wav -`,
    );
    expect(tts.args).toContain("flite=text='hello world':voice=slt");
  });
});

describe("buildFfmpegArgs: codecs, outputs and templates", () => {
  it("maps each of several video or audio params to its own output stream", () => {
    expect(line("rtsp://x#video=h264#video=mjpeg#audio=opus")).toBe(
      `ffmpeg -hide_banner -allowed_media_types video+audio ${RTSP_IN} -i rtsp://x ` +
        "-map 0:v:0? -c:v:0 libx264 -g 50 -profile:v:0 high -level:v:0 4.1 -preset:v:0 superfast -tune:v:0 zerolatency -pix_fmt:v:0 yuv420p " +
        "-map 0:v:0? -c:v:1 mjpeg -map 0:a:0? -c:a:0 libopus -application:a:0 lowdelay -min_comp 0 " + OUT,
    );
    expect(line("rtsp://x#video=copy#audio=copy#audio=pcmu")).toBe(
      `ffmpeg -hide_banner -allowed_media_types video+audio ${RTSP_IN} -i rtsp://x ` +
        `-map 0:v:0? -c:v:0 copy -map 0:a:0? -c:a:0 copy -map 0:a:0? -c:a:1 pcm_mulaw -ar:a:1 8000 -ac:a:1 1 ${OUT}`,
    );
  });

  it("limits the bitrate", () => {
    expect(line("/a.mp4#video=h264#bitrate=2M")).toBe(
      `ffmpeg -hide_banner -re -i /a.mp4 ${H264} -b:v 2M -maxrate 2M -bufsize 2M -an ${OUT}`,
    );
  });

  it("rotates 90 and 270 degrees", () => {
    expect(line("/a.mp4#video=h264#rotate=90")).toContain(`-vf "transpose=1"`);
    expect(line("/a.mp4#video=h264#rotate=270")).toContain(`-vf "transpose=2"`);
    expect(line("/a.mp4#video=h264#rotate=45")).not.toContain("-vf");
  });

  it("uses literal codec options when no template has the name", () => {
    expect(line("/a.mp4#video=-c:v libvpx -b:v 1M#audio=-c:a libopus")).toBe(
      `ffmpeg -hide_banner -re -i /a.mp4 -c:v libvpx -b:v 1M -c:a libopus ${OUT}`,
    );
  });

  it("chooses pipe outputs by format", () => {
    const kinds = (url: string) => {
      const c = buildFfmpegArgs(url);
      return [c.output, c.commandLine.slice(c.commandLine.lastIndexOf(" -f "))];
    };
    expect(kinds("/a.mp4#video=mjpeg")).toEqual(["mjpeg", " -f mjpeg -"]);
    expect(kinds("/a.mp4#video=raw/gray8")).toEqual(["raw", " -f yuv4mpegpipe -"]);
    expect(kinds("/a.mp4#audio=aac")).toEqual(["adts", " -f adts -"]);
    expect(kinds("/a.mp4#audio=aac/16000")).toEqual(["adts", " -f adts -"]);
    expect(kinds("/a.mp4#audio=pcma/16000")).toEqual(["wav", " -f wav -"]);
    expect(kinds("/a.mp4#audio=pcml")).toEqual(["wav", " -f wav -"]);
    expect(kinds("/a.mp4#audio=opus")).toEqual(["rtsp", " -f rtsp {output}"]);
    expect(kinds("/a.mp4#video=mjpeg#audio=aac")).toEqual(["rtsp", " -f rtsp {output}"]);
    expect(kinds("/a.mp4#video=h264")).toEqual(["rtsp", " -f rtsp {output}"]);
  });

  it("can send everything else as MPEG-TS on stdout instead of RTSP", () => {
    const cmd = buildFfmpegArgs("/a.mp4#video=h264#audio=aac#audio=opus", { defaultOutput: "mpegts" });
    expect(cmd.output).toBe("mpegts");
    expect(cmd.args.slice(-3)).toEqual(["-f", "mpegts", "-"]);
    expect(buildFfmpegArgs("/a.mp4#video=mjpeg", { defaultOutput: "mpegts" }).output).toBe("mjpeg");
  });

  it("with the MPEG-TS pipe, keeps AAC on it, G.711/PCM alone on WAV, and G.711/PCM with video on {output}", () => {
    const kind = (url: string) => {
      const c = buildFfmpegArgs(url, { defaultOutput: "mpegts" });
      return [c.output, c.commandLine.slice(c.commandLine.lastIndexOf(" -f "))];
    };
    expect(kind("/a.mp4#audio=aac")).toEqual(["mpegts", " -f mpegts -"]);
    expect(kind("/a.mp4#video=copy#audio=pcma")).toEqual(["rtsp", " -f rtsp {output}"]);
    expect(kind("/a.mp4#audio=pcmu/16000")).toEqual(["wav", " -f wav -"]);
    expect(kind("/a.mp4#audio=pcml")).toEqual(["wav", " -f wav -"]);
    expect(kind("/a.mp4#video=copy#audio=pcm/8000")).toEqual(["rtsp", " -f rtsp {output}"]);
    expect(kind("/a.mp4#video=h264#audio=opus")).toEqual(["mpegts", " -f mpegts -"]);
  });

  it("takes templates, bin and global options from the config", () => {
    const templates = ffmpegTemplates({
      bin: "/opt/ffmpeg/bin/ffmpeg",
      global: "-hide_banner -v error",
      h264: "-c:v libx264 -preset ultrafast",
      myraw: "-ss 00:00:20",
      mytext: "x=2:y=2:fontsize=12",
      myinput: "-rtsp_transport udp -i {input}",
    });
    const cmd = buildFfmpegArgs("rtsp://x#input=myinput#raw=myraw#drawtext=mytext#video=h264", { templates });
    expect(cmd.bin).toBe("/opt/ffmpeg/bin/ffmpeg");
    expect(cmd.commandLine).toBe(
      `/opt/ffmpeg/bin/ffmpeg -hide_banner -v error -allowed_media_types video -rtsp_transport udp -i rtsp://x -ss 00:00:20 -c:v libx264 -preset ultrafast -an -vf "drawtext=x=2:y=2:fontsize=12:text='%{localtime\\:%Y-%m-%d %X}'" ${OUT}`,
    );
    const quoted = buildFfmpegArgs("/a.mp4", { bin: "C:\\Program Files\\ffmpeg.exe" });
    expect(quoted.bin).toBe("C:\\Program Files\\ffmpeg.exe");
    expect(quoted.commandLine.startsWith(`"C:\\Program Files\\ffmpeg.exe" -hide_banner`)).toBe(true);
  });

  it("flags #audio=auto for the caller", () => {
    expect(buildFfmpegArgs("rtsp://x#audio=auto").autoAudio).toBe(true);
    expect(buildFfmpegArgs("rtsp://x#audio=opus").autoAudio).toBe(false);
  });

  it("returns args that match the command line", () => {
    const cmd = buildFfmpegArgs("ffmpeg:rtsp://cam/1#video=h264#audio=opus");
    expect(cmd.bin).toBe("ffmpeg");
    expect([cmd.bin, ...cmd.args].join(" ")).toBe(cmd.commandLine);
    expect(cmd.args.at(-1)).toBe("{output}");
  });
});

describe("parseFfmpegVersion", () => {
  it("reads the release and libavformat versions", () => {
    const text = "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\n" +
      "built with gcc 12 (Debian 12.2.0-14+deb12u1)\nlibavutil      57. 28.100 / 57. 28.100\n" +
      "libavformat    59. 27.100 / 59. 27.100\n";
    expect(parseFfmpegVersion(text)).toEqual({ ffmpeg: "5.1.9-0+deb12u1", libavformat: "59.27.100" });
    expect(parseFfmpegVersion("bash: ffmpeg: command not found")).toBeUndefined();
  });
});

describe("buildFfmpegArgs: mosaic of several streams (the seed article's quad_view)", () => {
  const hasStream = (name: string) => ["a", "b", "c"].includes(name);
  const streamIn = (name: string, source: string) =>
    `${RTSP_IN} -i rtsp://127.0.0.1:8554/${name}?video&source=${encodeURIComponent("ffmpeg:" + source)}`;

  it("tiles streams into a grid, encodes H.264 and drops audio", () => {
    expect(line("ffmpeg:a,b", { hasStream })).toBe(
      `ffmpeg -hide_banner ${streamIn("a", "a,b")} ${streamIn("b", "a,b")} -filter_complex "${mosaicGrid(2, 640, 360)}" ` +
        `${H264} -an ${OUT}`,
    );
    expect(mosaicGrid(2, 640, 360)).toBe(
      "[0:v]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:-1:-1,setsar=1[t0];" +
        "[1:v]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:-1:-1,setsar=1[t1];" +
        "[t0][t1]xstack=inputs=2:layout=0_0|640_0:fill=black",
    );
    // 3-4 tiles: 2x2; #width/#height are the tile's size.
    expect(mosaicGrid(4, 320, 180).endsWith("xstack=inputs=4:layout=0_0|320_0|0_180|320_180:fill=black")).toBe(true);
    expect(mosaicGrid(5, 320, 180).endsWith("layout=0_0|320_0|640_0|0_180|320_180:fill=black")).toBe(true);
    expect(line("ffmpeg:a,b,c#width=320#height=180", { hasStream })).toContain(mosaicGrid(3, 320, 180));
  });

  it("takes a graph of its own (#filter_complex), network URLs, and puts drawtext after the tiles", () => {
    const cmd = line("ffmpeg:a,rtsp://cam/1#filter_complex=hstack=inputs=2#drawtext=fontsize=20#video=h265", { hasStream });
    expect(cmd).toContain(`-allowed_media_types video ${RTSP_IN} -i rtsp://cam/1 -filter_complex "hstack=inputs=2,drawtext=fontsize=20:`);
    expect(cmd).toContain(H265);
    expect(cmd).not.toContain("-vf");
  });

  it("#tour shows the streams one after the other, full size, each for its turn", () => {
    expect(tourGraph(3, 10, 1280, 720)).toBe(
      "[0:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:-1:-1,setsar=1[t0];" +
        "[1:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:-1:-1,setsar=1[t1];" +
        "[2:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:-1:-1,setsar=1[t2];" +
        "[t0][t1]overlay=enable='gte(mod(t,30),10)*lt(mod(t,30),20)'[o1];" +
        "[o1][t2]overlay=enable='gte(mod(t,30),20)*lt(mod(t,30),30)'",
    );
    expect(line("ffmpeg:a,b#tour=1m", { hasStream })).toContain(`-filter_complex "${tourGraph(2, 60, 1280, 720)}"`);
    expect(line("ffmpeg:a,b#tour=5s#width=320#height=240", { hasStream })).toContain(tourGraph(2, 5, 320, 240));
    expect(line("ffmpeg:a,b#tour=5", { hasStream })).toContain(H264);
    expect([tourSeconds("10"), tourSeconds("1.5s"), tourSeconds("2m"), tourSeconds("0"), tourSeconds("5;rm")]).toEqual([10, 1.5, 120, undefined, undefined]);
    expect(() => line("ffmpeg:a,b#tour=often", { hasStream })).toThrow(/#tour=often is not a duration; give each camera's turn in seconds/);
  });

  it("a comma in a name that is not a list of streams stays one input", () => {
    expect(line("ffmpeg:a,nope", { hasStream })).toBe("ffmpeg -hide_banner -re -i a,nope -c copy " + OUT);
  });
});
