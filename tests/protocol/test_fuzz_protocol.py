"""Hostile input on the protocol (hypothesis): the agent never dies and
answers everything it can with an error.

- Well-framed requests with random operations, fields of the wrong type,
  deep nesting, huge strings, odd ids, lone surrogates: every request with a
  valid id ends with ``done`` (a ``trap`` first when refused), and the same
  connection then answers a plain request.
- Payloads that are not JSON objects (random bytes, invalid UTF-8, bare
  values, nesting past any recursion limit): a ``trap`` without id, and the
  connection goes on.
- Random bytes where a frame should be: either they happen to be frames and
  are answered, or the agent says ``fatal`` and closes that connection; the
  agent serves the next connection either way.
- Against the real daemon: a bad header, an oversized frame, a stream ending
  inside a frame each close only their connection; the daemon lives.

The number of cases run is printed (``-s``) and recorded in
docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol.wire import Wire
from tests.reliability.conftest import AgentHub
from winbox_py.backend.rpc import encode, read_frame

REAL_OPS = ["describe", "print", "get", "add", "set", "unset", "remove", "enable", "disable", "comment", "move",
            "command", "export", "import", "cli", "stats", "undo", "redo", "safe-mode", "check-impact", "ping",
            "ack", "cancel", "init"]
PATHS = ["/ip/address", "/interface/ethernet", "/system/identity", "/ip/pool", "/ip/firewall/filter", "/nope",
         "", "/", "//", "/interface/pppoe-client", "/system/history", "/user"]
FIELDS = ["path", "ids", "values", "proplist", "where", "item", "command", "args", "script", "line", "names",
          "destination", "comment", "follow", "follow-only", "interval", "sensitive", "expect", "on", "take-over",
          "reclaim", "unroll", "action", "place-before", "copy-from", "bytes", "protocol", "capabilities",
          "revision", "mine", "once", "duration"]

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                      st.text(max_size=40), st.sampled_from(PATHS + ["ether1", "*1", "*FFFFFFFF", "yes", "no",
                                                                     "\ud800", "x" * 5000]))
json_value = st.recursive(json_leaf, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                            st.dictionaries(st.text(max_size=10), kids,
                                                                            max_size=4)), max_leaves=20)
request_ids = st.one_of(st.integers(-10, 10**6), st.text(min_size=1, max_size=64), st.none(), st.booleans(),
                        st.text(min_size=65, max_size=80), st.lists(st.integers(), max_size=2), st.floats())


@st.composite
def requests(draw):
    msg = {}
    if draw(st.booleans()):
        msg["op"] = draw(st.sampled_from(REAL_OPS))
    else:
        msg["op"] = draw(json_value)
    msg["id"] = draw(request_ids)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True)):
        if name == "path" and draw(st.booleans()):
            msg[name] = draw(st.sampled_from(PATHS))
        else:
            msg[name] = draw(json_value)
    # follow streams and monitors would go on: they are cancelled below
    return msg


CONTROL = ("ping", "ack", "cancel", "init")     # frames that are not requests: no done


def _valid_id(rid) -> bool:
    return (isinstance(rid, int) and not isinstance(rid, bool)) or (isinstance(rid, str) and 0 < len(rid) <= 64)


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


class _Counter:
    cases = 0
    requests = 0


async def _exchange(h: AgentHub, frames: list[bytes], ids: list, wrong_init: bool = False) -> None:
    """Send ``frames`` on a fresh connection, cancel every id, then check a
    plain request is answered and every valid id ended with ``done`` (an
    ``init`` of another protocol version ends the connection: ``fatal``)."""
    transport = await h.transport()
    wire = Wire(transport)
    await wire.start()
    for f in frames:
        wire.writer.write(f)
    for rid in ids:
        if _valid_id(rid) and rid != "sentinel":
            wire.writer.write(encode({"op": "cancel", "id": rid}))
    await wire.send({"op": "get", "id": "sentinel", "path": "/system/identity"})
    done: dict = {}
    while True:
        msg = await wire.recv(timeout=30)
        if wrong_init and (msg is None or msg.get("op") == "fatal"):
            await wire.close()
            return
        assert msg is not None, "the agent closed the connection after %r" % frames[:3]
        assert msg.get("op") != "fatal", msg
        if msg.get("op") == "done":
            done[msg.get("id")] = done.get(msg.get("id"), 0) + 1
            if msg.get("id") == "sentinel":
                assert msg["result"]["name"]
                break
    for rid in ids:
        if _valid_id(rid) and rid != "sentinel":
            key = rid
            assert key in done, "request %r got no done" % (rid,)
    await wire.close()


def test_random_requests_are_all_answered_and_the_connection_goes_on(tmp_path):
    loop = asyncio.new_event_loop()
    h = loop.run_until_complete(_make_hub(tmp_path))

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(requests(), min_size=1, max_size=8))
    def check(msgs):
        frames = []
        for m in msgs:
            payload = json.dumps(m).encode("utf-8", "surrogatepass")
            frames.append(b"%d\n" % len(payload) + payload)
        ids = [m.get("id") for m in msgs if m.get("op") not in CONTROL]
        wrong_init = any(m.get("op") == "init" and m.get("protocol") != 1 for m in msgs)
        loop.run_until_complete(_exchange(h, frames, ids, wrong_init))
        _Counter.cases += 1
        _Counter.requests += len(msgs)

    try:
        check()
        # the agent still serves a new connection and its state still loads
        loop.run_until_complete(_exchange(h, [], []))
    finally:
        loop.run_until_complete(h.close())
        loop.close()
    from winbox_agent.router import Router
    Router(str(tmp_path / "fuzz"), seed=1).close()
    print("\nprotocol fuzz: %d cases, %d requests" % (_Counter.cases, _Counter.requests))
    assert _Counter.cases >= 400


async def _make_hub(tmp_path):
    return AgentHub(tmp_path / "fuzz", None)


payloads = st.one_of(
    st.binary(max_size=300),                                            # anything, mostly not UTF-8
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_value.map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),   # JSON, rarely an object
    st.integers(1, 200_000).map(_deep),                                 # nesting past recursion limits
    st.integers(1, 50_000).map(lambda n: b'{"op":' * n),
)


def test_payloads_that_are_not_json_objects_fail_only_themselves(tmp_path):
    loop = asyncio.new_event_loop()
    h = loop.run_until_complete(_make_hub(tmp_path))
    seen = {"cases": 0, "traps": 0}

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(payloads, min_size=1, max_size=5))
    def check(bodies):
        async def go():
            transport = await h.transport()
            wire = Wire(transport)
            await wire.start()
            for b in bodies:
                wire.writer.write(b"%d\n" % len(b) + b)
            await wire.send({"op": "get", "id": "sentinel", "path": "/system/identity"})
            while True:
                msg = await wire.recv(timeout=30)
                assert msg is not None and msg.get("op") != "fatal", msg
                if msg.get("op") == "trap" and msg.get("id") is None:
                    assert msg["problem"] == "protocol" and msg["message"]
                    seen["traps"] += 1
                if msg.get("op") == "done" and msg.get("id") == "sentinel":
                    break
            await wire.close()
        loop.run_until_complete(go())
        seen["cases"] += 1

    try:
        check()
    finally:
        loop.run_until_complete(h.close())
        loop.close()
    print("\nnot-JSON fuzz: %d cases, %d refused payloads" % (seen["cases"], seen["traps"]))
    assert seen["cases"] >= 300 and seen["traps"] > 300


def test_random_bytes_instead_of_frames_close_only_that_connection(tmp_path):
    loop = asyncio.new_event_loop()
    h = loop.run_until_complete(_make_hub(tmp_path))
    seen = {"cases": 0, "fatal": 0, "served": 0}

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(min_size=1, max_size=2000) | st.sampled_from([
        b"99999999999\n", b"16777217\n", b"-1\n", b"\n", b"12x\n{}", b"0\n", b"5\nabc", b"1" * 5000,
        b"3\n{}}" + b"2\n{}", b"\x00WINBOXPY/1 x\n", b"\xff\xfe\n", b"   7\n{\"a\":1}"]))
    def check(junk):
        async def go():
            transport = await h.transport()
            wire = Wire(transport)
            await wire.start()
            wire.writer.write(junk)
            await wire.send({"op": "get", "id": "sentinel", "path": "/system/identity"})
            wire.writer.write_eof()
            outcome = None
            while outcome is None:
                payload = await asyncio.wait_for(_safe_frame(wire.reader), 30)
                if payload is None:
                    outcome = "closed"
                    break
                msg = json.loads(payload)
                if msg.get("op") == "fatal":
                    assert msg["problem"] == "protocol" and msg["message"]
                    outcome = "fatal"
                elif msg.get("op") == "done" and msg.get("id") == "sentinel":
                    outcome = "served"
            seen[outcome if outcome != "closed" else "fatal"] += 1
            await wire.close()
        loop.run_until_complete(go())
        seen["cases"] += 1

    try:
        check()
        # the agent lives: a new connection is served as usual
        loop.run_until_complete(_exchange(h, [], []))
    finally:
        loop.run_until_complete(h.close())
        loop.close()
    print("\nframing fuzz: %d cases (%d closed with fatal, %d served)" % (seen["cases"], seen["fatal"],
                                                                        seen["served"]))
    assert seen["cases"] >= 300 and seen["fatal"] > 100


async def _safe_frame(reader):
    try:
        return await read_frame(reader)
    except Exception:
        return None


def test_framing_errors_close_only_their_connection_and_the_daemon_lives(arun, start_daemon):
    d = start_daemon()

    async def go():
        from winbox_py.backend.local import local_opener
        opener = local_opener(str(d.state_dir), seed=1)
        for junk in (b"not a number\n", b"999999999\n", b"16777217\n", b"40\n{\"op\":\"get\""):
            transport = await opener()
            wire = Wire(transport)
            await wire.start()
            await wire.send_raw(junk)
            transport.writer.write_eof()
            messages = []
            while True:
                msg = await wire.recv(timeout=20)
                if msg is None:
                    break
                messages.append(msg)
            assert messages and messages[-1]["op"] == "fatal", (junk, messages)
            assert messages[-1]["problem"] == "protocol"
            await transport.wait_closed()
            assert d.alive, "the daemon died of %r" % junk
        # deep nesting and invalid UTF-8 in a well-formed frame: refused, connection goes on
        transport = await opener()
        wire = Wire(transport)
        await wire.start()
        for body in (_deep(100_000), b"\xff\xfe\xfd", b'{"op":"get","id":1,"path":"\xc3\x28"}'):
            await wire.send_raw(b"%d\n" % len(body) + body)
            msg = await wire.recv()
            assert msg["op"] == "trap" and msg["id"] is None and msg["problem"] == "protocol", msg
        await wire.send({"op": "get", "id": 2, "path": "/system/identity"})
        reply = await wire.until_done(2)
        assert reply[-1]["result"]["name"]
        await wire.close()
        await transport.wait_closed()
        assert d.alive
    arun(go())
