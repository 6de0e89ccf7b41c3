#!/usr/bin/python3
"""Reference C RTSP server for the fan-out bench: gst-rtsp-server relaying the bench camera.

One shared media (set_shared(True)): the first reader makes it pull the camera once, every further
reader is served from the same pipeline, like strom's one-source-many-viewers model.

    /usr/bin/python3 scripts/bench/gst_rtsp_relay.py --source rtsp://127.0.0.1:9000/cam [--port 0]

Prints {"event":"listening","port":N} on stdout. Needs python3-gi and gir1.2-gst-rtsp-server-1.0
(Debian/Ubuntu), plus gstreamer1.0-plugins-good (rtspsrc, rtph264depay/pay) and -base.
"""
import argparse
import json
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True, help="camera RTSP URL")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mount", default="/cam")
    # The reference is gst-rtsp-server as a new user would set it up: the shared factory
    # `( rtspsrc location=<camera> latency=0 protocols=tcp ! rtph264depay ! h264parse
    # config-interval=-1 ! rtph264pay name=pay0 pt=96 )`, TCP only, rate control left on (its
    # default). --rate-control off is the other configuration the bench compares with: frames are
    # forwarded on arrival instead of paced by the pipeline clock (about twice gst's CPU).
    ap.add_argument("--src-options", default="latency=0", help="rtspsrc properties")
    ap.add_argument("--pay-options", default="", help="extra rtph264pay properties, e.g. mtu=1472")
    ap.add_argument("--rate-control", choices=["on", "off"], default="on",
                    help="gst-rtsp-server's clock-paced sending to TCP clients (its default: on)")
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    # rtspsrc -> depay -> pay is the standard gst-rtsp-server relay: gst-rtsp-server needs a
    # payloader named pay0 and cannot pass foreign RTP through unchanged.
    factory.set_launch(
        f"( rtspsrc location={args.source} {args.src_options} protocols=tcp "
        f"! rtph264depay ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 {args.pay_options} )"
    )
    factory.set_shared(True)

    # gst-rtsp-server paces TCP clients by the pipeline clock ("rate control": its appsink syncs on
    # buffer timestamps); off forwards on arrival, like strom and the raw relays. (Its added latency
    # varies from session to session either way; it is the CPU reference, the C relay the latency one.)
    def on_media_configure(_factory, media):
        for i in range(media.n_streams()):
            media.get_stream(i).set_rate_control(args.rate_control == "on")

    factory.connect("media-configure", on_media_configure)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print("gst_rtsp_relay: cannot bind", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"event": "listening", "port": server.get_bound_port()}), flush=True)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()


if __name__ == "__main__":
    main()
