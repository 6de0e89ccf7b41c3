// An independent ONVIF client as a test peer: the npm `onvif` package (agsh/onvif, used by Node-RED
// and other NVR software), run with node whatever runtime the test runs on. It connects as it
// would to a camera (GetSystemDateAndTime, GetServices, GetProfiles, GetVideoSources), then asks
// for every profile's stream and snapshot address. Prints one JSON line: {info, profiles} or {error}.
//
// usage: node onvif_peer.cjs <host> <port> [user] [password]
"use strict";
const { Cam } = require("onvif");

const [host, port, username, password] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const fail = (error) => (print({ error: String(error && error.message || error) }), process.exit(0));
const call = (cam, method, ...args) =>
  new Promise((resolve, reject) => cam[method](...args, (err, value) => (err ? reject(err) : resolve(value))));

const cam = new Cam({ hostname: host, port: Number(port), username, password, timeout: 5000, autoconnect: false });
cam.connect(async (err) => {
  if (err) return fail(err);
  try {
    const info = await call(cam, "getDeviceInformation");
    const profiles = [];
    for (const p of cam.profiles) {
      const token = p.$.token;
      const stream = await call(cam, "getStreamUri", { protocol: "RTSP", profileToken: token });
      const snapshot = await call(cam, "getSnapshotUri", { profileToken: token });
      profiles.push({ token, name: p.name, uri: stream.uri, snapshot: snapshot.uri });
    }
    print({ info: { manufacturer: info.manufacturer, firmwareVersion: info.firmwareVersion }, profiles });
  } catch (error) {
    fail(error);
  }
});
