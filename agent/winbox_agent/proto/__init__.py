"""The desktop <-> agent protocol (see docs/protocol.md).

- :mod:`.framing`: the sync marker and ``<length>\\n<JSON>`` frames;
- :mod:`.messages`: typed access to incoming messages;
- :mod:`.server`: one connection (handshake, requests, streams, flow control,
  heartbeat) over any pair of asyncio streams;
- :mod:`.hub`: what every connection to one device shares (the Router,
  follow feeds, shared monitors);
- :mod:`.daemon` and :mod:`.bridge`: one daemon per device, one thin bridge
  per connection between its stdio and the daemon's Unix socket;
- :mod:`.serve`: the protocol on stdin/stdout in-process, without a daemon.
"""
