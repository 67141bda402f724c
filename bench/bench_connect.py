"""Connect time over SSH: from nothing to the first ``print`` result.

Starts the tests' OpenSSH server on loopback (tests/ssh/sshd.py: as root it
makes throw-away users, otherwise it logs in as you with a temporary key) and
measures, in the same run:

- ``paramiko``: stock paramiko (``SSHClient.connect`` + ``exec true``), the
  reference the issue asks for;
- ``tuned``: our SSH connection (TCP_NODELAY, TCP_QUICKACK) + ``exec true``;
- ``cold``: ``connect()`` + ``print /system/identity`` the first time: probe,
  agent uploaded, daemon started (device cache emptied, daemon killed, no
  per-host memory);
- ``warm``: the same with the probe remembered, the agent cached on the
  device (only its hash sent) and the daemon running;
- ``warm, new daemon``: cached agent, but the daemon must start again.

Prints median and 90th percentile of each and the ratios to the references.

    python bench/bench_connect.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paramiko  # noqa: E402

from tests.ssh.sshd import SSHServer, kill_processes_mentioning, running_sshd  # noqa: E402
from winbox_py.backend import bootstrap, ssh  # noqa: E402
from winbox_py.backend.connect import ConnectTarget, connect  # noqa: E402


def stock_paramiko(server: SSHServer) -> float:
    t0 = time.perf_counter()
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", server.port, username=server.plain.name, key_filename=str(server.key),
                   allow_agent=False, look_for_keys=False)
    _, stdout, _ = client.exec_command("true")
    stdout.channel.recv_exit_status()
    elapsed = time.perf_counter() - t0
    client.close()
    return elapsed


def tuned(target: ConnectTarget) -> float:
    t0 = time.perf_counter()
    conn = ssh.open_transport(target.endpoint(), lambda h, f: True, known_hosts=target.known_hosts)
    chan = conn.open_session()
    chan.exec_command("true")
    chan.recv_exit_status()
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


async def first_print(target: ConnectTarget) -> float:
    t0 = time.perf_counter()
    session = await connect(target, lambda h, f: True)
    rows = await session.print("/system/identity")
    elapsed = time.perf_counter() - t0
    assert rows and rows[0]["name"]
    await session.close()
    return elapsed


def summary(name: str, values: list[float], refs: dict[str, float]) -> str:
    med = statistics.median(values)
    p90 = sorted(values)[max(0, int(len(values) * 0.9) - 1)]
    ratios = "  ".join(f"{med / ref:5.1f}x {label}" for label, ref in refs.items())
    return f"{name:<18} median {med * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms   {ratios}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="winbox-bench-home-"))
    os.environ.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    os.environ.pop("SSH_AUTH_SOCK", None)
    try:
        with running_sshd() as server:
            user = server.plain
            state = user.home / "bench-state"
            cache = user.home / "bench-cache"
            known = ssh.KnownHosts(app_file=home / "known_hosts", user_files=[])
            memory_path = home / "hosts.json"

            def target() -> ConnectTarget:
                return ConnectTarget(host=f"{user.name}@{server.address}", keyfile=str(server.key), driver="sim",
                                     state_dir=str(state), agent_cache=str(cache), known_hosts=known,
                                     memory=bootstrap.HostMemory(memory_path))

            def reset(daemon: bool, device_cache: bool, memory: bool) -> None:
                if daemon:
                    kill_processes_mentioning(str(state))
                    time.sleep(0.2)
                if device_cache:
                    shutil.rmtree(cache, ignore_errors=True)
                if memory:
                    memory_path.unlink(missing_ok=True)

            stock_paramiko(server)  # warm up sshd and the page cache
            results: dict[str, list[float]] = {k: [] for k in ("paramiko", "tuned", "cold", "warm", "new daemon")}
            payload = bootstrap.build_payload()
            for _ in range(args.runs):
                results["paramiko"].append(stock_paramiko(server))
                results["tuned"].append(tuned(target()))
                reset(daemon=True, device_cache=True, memory=True)
                results["cold"].append(asyncio.run(first_print(target())))
                results["warm"].append(asyncio.run(first_print(target())))
                reset(daemon=True, device_cache=False, memory=False)
                results["new daemon"].append(asyncio.run(first_print(target())))
            reset(daemon=True, device_cache=True, memory=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    refs = {"paramiko": statistics.median(results["paramiko"]), "tuned": statistics.median(results["tuned"])}
    print(f"connect to the first print result, {args.runs} runs each; agent payload "
          f"{len(payload.blob) / 1024:.0f} KiB compressed ({len(payload.source) / 1024:.0f} KiB source)")
    print(summary("paramiko + true", results["paramiko"], {}))
    print(summary("tuned + true", results["tuned"], {"paramiko": refs["paramiko"]}))
    print(summary("cold (upload)", results["cold"], refs))
    print(summary("warm (cached)", results["warm"], refs))
    print(summary("warm, new daemon", results["new daemon"], refs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
