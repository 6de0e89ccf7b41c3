import { describe, expect, it } from "bun:test";
import { answerOnvif, type OnvifDevice, readUsernameToken, verifyUsernameToken } from "./server.ts";
import { envelope, NS, securityHeader } from "./soap.ts";

const device: OnvifDevice = {
  streams: ["cam"],
  serviceUrl: "http://192.0.2.1:1984/onvif/device_service",
  streamUri: (name) => `rtsp://192.0.2.1:8554/${name}`,
  snapshotUri: (name) => `http://192.0.2.1:1984/api/frame.jpeg?src=${name}`,
  info: { manufacturer: "strom", model: "strom", firmwareVersion: "1", serialNumber: "s", hardwareId: "h" },
  now: new Date("2026-12-06T10:11:12Z"),
};

describe("ONVIF device", () => {
  it("checks a WS-Security digest: right password, wrong password, clock window, bad nonce", async () => {
    const now = new Date("2026-12-06T10:00:00Z");
    const token = readUsernameToken(envelope(await securityHeader("admin", "pw", now), "<x/>"))!;
    expect(token).toMatchObject({ username: "admin", type: "digest", created: "2026-12-06T10:00:00Z" });
    expect(await verifyUsernameToken(token, "pw", now)).toBe(true);
    expect(await verifyUsernameToken(token, "other", now)).toBe("the password digest does not match");
    expect(await verifyUsernameToken(token, "pw", new Date("2026-12-06T10:06:00Z"))).toContain("360 s ago");
    expect(await verifyUsernameToken(token, "pw", new Date("2026-12-06T09:50:00Z"))).toContain("600 s ahead");
    expect(await verifyUsernameToken({ ...token, nonce: "%%%" }, "pw", now)).toContain("not base64");
    expect(await verifyUsernameToken({ ...token, type: "text", password: "pw" }, "pw", now)).toBe(true);
  });

  it("tells the media service's GetServiceCapabilities from the device service's by namespace, prefixed or not", () => {
    const media = answerOnvif(
      `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:trt="${NS.media}"><s:Body>` +
        `<trt:GetServiceCapabilities/></s:Body></s:Envelope>`,
      device,
    );
    expect(media.xml).toContain("<trt:GetServiceCapabilitiesResponse>");
    const dev = answerOnvif(envelope("", `<GetServiceCapabilities xmlns="${NS.device}"/>`), device);
    expect(dev.xml).toContain("<tds:GetServiceCapabilitiesResponse>");
  });

  it("answers the clock in UTC and escapes stream names in XML", () => {
    const time = answerOnvif(envelope("", `<GetSystemDateAndTime xmlns="${NS.device}"/>`), device);
    expect(time.xml).toContain("<tt:Hour>10</tt:Hour><tt:Minute>11</tt:Minute><tt:Second>12</tt:Second>");
    const odd = answerOnvif(envelope("", `<GetProfiles xmlns="${NS.media}"/>`), {
      ...device,
      streams: ['a<b>&"c'],
    });
    expect(odd.xml).toContain('token="a&lt;b&gt;&amp;&quot;c"');
  });
});
