"""Pushing the agent to a device and starting it (PROTOCOLS.md section 3).

Nothing is installed on the device. On connect:

1. **Probe** with one POSIX ``sh`` command (busybox too): ``uname``, ``id``,
   ``/etc/os-release``, and every ``python3.N``/``python3`` on the PATH with its
   version and the standard modules the agent needs that it lacks (one
   ``python -c`` per distinct interpreter). The newest at or above
   :data:`MIN_PYTHON` with every module is picked, and remembered per host
   (:class:`HostMemory`) so the next connect skips the probe.
2. **Pack** ``agent/winbox_agent/**/*.py`` deterministically (sorted, no
   timestamps) into one Python source holding the module sources and a small
   import hook; its sha256 is the agent's version. The hook imports modules
   lazily, so the per-connection bridge compiles only what it imports.
3. **Run** ``python3 -u -c '<LOADER>' <nbytes> <sha256> <cache> <agent args>``
   over an exec channel without a PTY. The loader reads exactly ``nbytes`` of
   zlib-compressed payload from stdin, checks the hash, installs the hook and
   calls ``winbox_agent.__main__.main(agent args)``; the same stdin/stdout
   then carry the protocol.

The loader's exchange (lines start with a NUL so no MOTD can fake them)::

    desktop: exec python3 -u -c LOADER 0 <sha256> auto ...    (nbytes 0: "use your cache")
    loader:  \\0winbox-loader need <sha256>\\n                   (only if not cached)
    desktop: <nbytes>\\n<nbytes of payload>
    loader:  \\0winbox-loader ok <sha256> cached|-\\n            (then the agent runs)

When the desktop believes the device lacks the payload it sends it at once
(``nbytes`` > 0) and no ``need`` comes. Loader failures are one line on
stderr, ``winbox-loader error <kind> <message>``, and exit status 97.

The cache (``auto``) lives in a tmpfs, never on flash: ``$XDG_RUNTIME_DIR/
winbox-agent`` (or ``/run/user/<uid>/winbox-agent``), else
``/dev/shm/winbox-agent-<uid>``; the directory must be the user's own, mode
0700, and each file (named by its hash) mode 0600; the three newest are kept.
``off`` disables it; an absolute path chooses the directory.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import hashlib
import importlib.util
import json
import shlex
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import paramiko

from winbox_py.backend import paths
from winbox_py.backend.ssh import ConnectError, Endpoint
from winbox_py.backend.transport_ssh import SSHTransport

MIN_PYTHON = (3, 9)
PYTHON_NAMES = ("python3.14", "python3.13", "python3.12", "python3.11", "python3.10", "python3.9", "python3")
LOADER_EXIT = 97
MARK = b"\0winbox-loader "
MAX_JUNK = 1024 * 1024  # bytes of MOTD and such tolerated before the loader speaks

# --- the payload ---------------------------------------------------------------

PAYLOAD_HEAD = '''"""winbox-agent, packed by winbox-py: an import hook over the module sources
that follow this code (after a NUL byte: an index of ``name is_package
length`` lines, an empty line, then the sources back to back). Only what is
imported is decoded and compiled."""
import sys
from importlib.machinery import ModuleSpec

try:  # so that ps and top show winbox-agent
    with open("/proc/self/comm", "w") as _comm:
        _comm.write("winbox-agent")
except OSError:
    pass


def _index(data, start):
    end = data.index(b"\\n\\n", start)
    table = {}
    offset = end + 2
    for line in data[start:end].decode("ascii").split("\\n"):
        name, is_pkg, length = line.split()
        table[name] = (is_pkg == "1", offset, int(length))
        offset += int(length)
    return table


_MODULES = _index(_PAYLOAD, _START)


def _file(name):
    path = name.replace(".", "/")
    return "<winbox-agent>/" + (path + "/__init__.py" if _MODULES[name][0] else path + ".py")


class _PackedAgent:
    """Imports winbox_agent modules from the packed sources."""

    def find_spec(self, name, path=None, target=None):
        entry = _MODULES.get(name)
        if entry is None:
            return None
        return ModuleSpec(name, self, origin=_file(name), is_package=entry[0])

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = _file(module.__name__)
        exec(compile(self.get_source(module.__name__), module.__file__, "exec"), module.__dict__)

    def get_source(self, name):
        _, offset, length = _MODULES[name]
        return _PAYLOAD[offset:offset + length].decode("utf-8")

    def is_package(self, name):
        return _MODULES[name][0]


sys.meta_path.insert(0, _PackedAgent())
'''

# Kept short and free of single quotes: it travels on the command line. The
# multi-line source runs as written by ``python3 -c``.
LOADER = '''import sys,os,zlib,hashlib
a=sys.argv;n=int(a[1]);h=a[2];c=a[3];v=a[4:];u=os.geteuid()
def E(k,m):
 os.write(2,("winbox-loader error %s %s\\n"%(k,m)).encode());os._exit(97)
def R(k):
 b=b""
 while len(b)<k:
  d=os.read(0,min(k-len(b),1<<20))
  if not d:E("short-read","stdin ended after %d of %d bytes"%(len(b),k))
  b+=d
 return b
def D():
 if c=="-":return
 if c=="auto":
  r=os.environ.get("XDG_RUNTIME_DIR") or "/run/user/%d"%u
  d=r+"/winbox-agent" if os.path.isdir(r) else "/dev/shm/winbox-agent-%d"%u
 else:d=c
 try:os.mkdir(d,448)
 except OSError:pass
 try:s=os.lstat(d)
 except OSError:return
 if s.st_mode&0o170077==0o40000 and s.st_uid==u:return d
def L(z):
 try:s=zlib.decompress(z)
 except Exception:return
 if hashlib.sha256(s).hexdigest()==h:return s
def G(p):
 try:
  f=os.open(p,os.O_RDONLY|os.O_NOFOLLOW);t=os.fstat(f)
  with os.fdopen(f,"rb") as o:
   if t.st_uid==u and not t.st_mode&63:return L(o.read())
 except OSError:return
def W(d,z):
 t="%s/.%s.%d"%(d,h,os.getpid())
 try:
  with os.fdopen(os.open(t,os.O_WRONLY|os.O_CREAT|os.O_EXCL|os.O_NOFOLLOW,384),"wb") as o:o.write(z)
  os.rename(t,d+"/"+h)
  for x in sorted((os.stat(d+"/"+x).st_mtime,x) for x in os.listdir(d) if len(x)==64)[:-3]:os.unlink(d+"/"+x[1])
  return 1
 except OSError:
  try:os.unlink(t)
  except OSError:pass
d=D();s=None;k=0
if n==0 and d:s=G(d+"/"+h);k=s is not None
if s is None:
 if n==0:
  os.write(1,("\\0winbox-loader need %s\\n"%h).encode());l=b""
  while l[-1:]!=b"\\n":
   x=os.read(0,1)
   if not x:E("short-read","stdin ended before the payload size")
   l+=x
  n=int(l)
 z=R(n);s=L(z)
 if s is None:E("hash-mismatch","the payload does not match sha256 %s"%h)
 k=d and W(d,z)
os.write(1,("\\0winbox-loader ok %s %s\\n"%(h,"cached" if k else "-")).encode())
os.environ["WINBOX_AGENT_HASH"]=h
i=s.index(b"\\0")
exec(compile(s[:i],"<winbox-agent payload>","exec"),{"__name__":"winbox_agent_payload","_PAYLOAD":s,"_START":i+1})
sys.argv=["winbox-agent"]+v
from winbox_agent.__main__ import main
sys.exit(main(v))
'''

# Always importable: the loader and the hook use them.
BASE_MODULES = ("zlib", "hashlib", "importlib.machinery")


@dataclass(frozen=True)
class Payload:
    """The packed agent.

    Attributes:
        source: the hook's Python source, a NUL, then the module index and sources.
        blob: ``source`` zlib-compressed, as sent.
        sha256: hex digest of ``source``: the agent's version.
        modules: standard modules the agent cannot run without.
    """

    source: bytes
    blob: bytes
    sha256: str
    modules: tuple[str, ...]


def agent_root() -> Path:
    """The directory of the ``winbox_agent`` package on this computer."""
    spec = importlib.util.find_spec("winbox_agent")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parents[2] / "agent" / "winbox_agent"


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts.pop()
    return ".".join(parts), is_pkg


def _catches_import_error(node: ast.Try) -> bool:
    for handler in node.handlers:
        names = []
        if handler.type is None:
            return True
        for t in (handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]):
            if isinstance(t, ast.Name):
                names.append(t.id)
        if {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"} & set(names):
            return True
    return False


def _parse(source: str) -> ast.AST:
    """``ast.parse``, tolerating CPython 3.11's "AST constructor recursion depth
    mismatch": its AST conversion keeps a process-wide depth counter that
    another thread parsing at the same moment (paramiko's, a test runner's)
    upsets.  The source is fine; parsing it again succeeds."""
    for attempt in range(5):
        try:
            return ast.parse(source)
        except SystemError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def required_imports(source: str) -> set[str]:
    """Absolute imports of a module not guarded by ``except ImportError``."""
    found: set[str] = set()

    def visit(node: ast.AST, optional: bool) -> None:
        if isinstance(node, ast.Import) and not optional:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not optional and node.level == 0 and node.module:
            found.add(node.module)
        if isinstance(node, ast.Try) and _catches_import_error(node):
            for child in node.body:
                visit(child, True)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, optional)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, optional)

    visit(_parse(source), False)
    return {m for m in found if m.split(".")[0] not in ("winbox_agent", "__future__")}


@functools.lru_cache(maxsize=4)
def build_payload(root: Path | None = None) -> Payload:
    """Pack the agent at ``root`` (default: :func:`agent_root`)."""
    root = Path(root) if root else agent_root()
    entries = []
    modules: set[str] = set(BASE_MODULES)
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name, is_pkg = _module_name(root, path)
        text = path.read_text(encoding="utf-8")
        modules |= required_imports(text)
        entries.append((name, is_pkg, text))
    entries.sort()
    blobs = [(name, is_pkg, text.encode("utf-8")) for name, is_pkg, text in entries]
    index = "".join(f"{name} {int(is_pkg)} {len(data)}\n" for name, is_pkg, data in blobs)
    source = (PAYLOAD_HEAD.encode("utf-8") + b"\0" + index.encode("ascii") + b"\n"
              + b"".join(data for _, _, data in blobs))
    return Payload(source=source, blob=zlib.compress(source, 9),
                   sha256=hashlib.sha256(source).hexdigest(), modules=tuple(sorted(modules)))


# --- the probe -------------------------------------------------------------------

# Run by each distinct interpreter with the module names as arguments: prints
# its version and the modules it lacks (no quotes, so it sits in sh's "...").
_CHECK = """import sys
m = []
try:
    import importlib.util as u
    for n in sys.argv[1:]:
        try:
            if u.find_spec(n) is None:
                m.append(n)
        except Exception:
            m.append(n)
except Exception:
    m.extend(sys.argv[1:])
print(sys.version.split()[0], *m)
"""


def probe_script(modules: Sequence[str]) -> str:
    """The POSIX sh probe: facts and ``python=NAME PATH VERSION [MISSING...]`` lines."""
    mods = " ".join(modules)
    names = " ".join(PYTHON_NAMES)
    return f"""echo winbox-probe 1
echo "os=$(uname -s 2>/dev/null)"
echo "arch=$(uname -m 2>/dev/null)"
echo "hostname=$(uname -n 2>/dev/null)"
echo "uid=$(id -u 2>/dev/null)"
echo "user=$(id -un 2>/dev/null)"
if [ -r /etc/os-release ]; then
  while IFS= read -r l || [ -n "$l" ]; do echo "os-release=$l"; done </etc/os-release
fi
command -v sudo >/dev/null 2>&1 && echo sudo=yes
K="{_CHECK}"
seen=" "
for p in {names}; do
  c=$(command -v "$p" 2>/dev/null) || continue
  case "$c" in /*) ;; *) continue ;; esac
  r=$(readlink -f "$c" 2>/dev/null) || r=$c
  [ -n "$r" ] || r=$c
  case "$seen" in *" $r "*) continue ;; esac
  seen="$seen$r "
  echo "python=$p $c $("$c" -I -S -c "$K" {mods} 2>/dev/null || echo broken)"
done
echo winbox-probe end
"""


@dataclass(frozen=True)
class PythonFound:
    """One interpreter the probe found.

    Attributes:
        name: the command name (``python3.11``).
        path: absolute path.
        version: (major, minor, micro), or () when it would not run.
        missing: standard modules it lacks.
    """

    name: str
    path: str
    version: tuple[int, ...]
    missing: tuple[str, ...] = ()

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version)) if self.version else "unusable"


@dataclass
class Probe:
    """What the probe found on the device."""

    facts: dict[str, str] = field(default_factory=dict)
    os_release: dict[str, str] = field(default_factory=dict)
    pythons: list[PythonFound] = field(default_factory=list)
    complete: bool = False

    @property
    def uid(self) -> int | None:
        try:
            return int(self.facts.get("uid", ""))
        except ValueError:
            return None


def _version(text: str) -> tuple[int, ...]:
    out = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


def parse_probe(text: str) -> Probe:
    """Read the probe's output (junk lines from shell start-up files are skipped)."""
    probe = Probe()
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if line == "winbox-probe end":
            probe.complete = True
        elif not sep:
            continue
        elif key == "os-release":
            k, _, v = value.partition("=")
            probe.os_release[k.strip()] = v.strip().strip('"').strip("'")
        elif key == "python":
            words = value.split()
            if len(words) < 3:
                continue
            name, path, ver = words[:3]
            version = () if ver == "broken" else _version(ver)
            probe.pythons.append(PythonFound(name, path, version, tuple(words[3:])))
        elif key in ("os", "arch", "hostname", "uid", "user", "sudo"):
            probe.facts[key] = value.strip()
    return probe


def pick_python(probe: Probe, where: str) -> PythonFound:
    """The newest usable interpreter, or ConnectError("no-python") saying why not."""
    usable = [p for p in probe.pythons if p.version >= MIN_PYTHON and not p.missing]
    if usable:
        return max(usable, key=lambda p: p.version)
    need = ".".join(map(str, MIN_PYTHON))
    if not probe.pythons:
        raise ConnectError("no-python", f"{where}: no python3 found on the device (winbox-py needs Python "
                                        f"{need} or newer there; install python3).")
    recent = [p for p in probe.pythons if p.version >= MIN_PYTHON]
    if recent:
        p = max(recent, key=lambda p: p.version)
        raise ConnectError("no-python", f"{where}: {p.path} (Python {p.version_text}) lacks standard modules "
                                        f"the agent needs: {', '.join(p.missing)}; install the package "
                                        f"that provides them (e.g. the full python3 package).")
    found = ", ".join(f"{p.path} {p.version_text}" for p in probe.pythons)
    raise ConnectError("no-python", f"{where}: Python {need} or newer is needed on the device; found {found}.")


# --- what the desktop remembers about each device -----------------------------------


class HostMemory:
    """Per device: the python picked and whether the agent is cached there.

    Kept in ``~/.cache/winbox-py/hosts.json`` (no secrets). Losing it only
    costs the next connect a probe and an upload.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else paths.cache_dir() / "hosts.json"

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def get(self, key: str) -> dict | None:
        entry = self._load().get(key)
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, entry: dict | None) -> None:
        data = self._load()
        if entry is None:
            data.pop(key, None)
        else:
            data[key] = entry
        try:
            paths.write_private_file(self.path, json.dumps(data, indent=1, sort_keys=True))
        except OSError:
            pass  # a cache: never fail a connect because it cannot be written


# --- running commands and the loader ------------------------------------------------


@dataclass
class AgentOptions:
    """How to start the agent on the device.

    Attributes:
        agent_args: argv for ``winbox_agent.__main__.main``.
        sudo: run through ``sudo -n`` unless already root.
        cache: ``auto``, ``off`` or an absolute directory on the device.
        command_prefix: shell text put before every remote command (tests use
            it to print junk or change PATH).
    """

    agent_args: list[str] = field(default_factory=lambda: ["bridge"])
    sudo: bool = False
    cache: str = "auto"
    command_prefix: str = ""


def _exec_blocking(connection: paramiko.Transport, command: str, timeout: float) -> tuple[int, str, str]:
    chan = connection.open_session(timeout=timeout)
    try:
        chan.settimeout(timeout)
        chan.exec_command(command)
        chan.shutdown_write()
        out, err = bytearray(), bytearray()
        while True:
            data = chan.recv(65536)
            if not data:
                break
            out += data
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
        while chan.recv_stderr_ready():
            err += chan.recv_stderr(65536)
        status = chan.recv_exit_status()
        return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    finally:
        chan.close()


async def run_command(connection: paramiko.Transport, command: str, timeout: float = 30.0) -> tuple[int, str, str]:
    """Run one command over an exec channel: (exit status, stdout, stderr)."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, _exec_blocking, connection, command, timeout)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ConnectError("unreachable", f"the SSH connection failed: {exc or type(exc).__name__}") from exc


async def probe(connection: paramiko.Transport, endpoint: Endpoint, options: AgentOptions,
                payload: Payload) -> Probe:
    """Run the probe and parse it."""
    command = options.command_prefix + "exec sh -c " + shlex.quote(probe_script(payload.modules))
    status, out, err = await run_command(connection, command)
    result = parse_probe(out)
    if not result.complete:
        detail = (err.strip().splitlines() or [f"exit status {status}"])[-1]
        raise ConnectError("agent-failed", f"{endpoint.display}: probing the device failed ({detail}); "
                                           f"is its login shell a POSIX sh?")
    return result


def loader_command(python: str, payload: Payload, send_now: bool, options: AgentOptions,
                   use_sudo: bool) -> str:
    """The shell command line that starts the loader."""
    nbytes = len(payload.blob) if send_now else 0
    cache = "-" if options.cache == "off" else options.cache
    # -I -S: no site-packages, no PYTHON* variables: the agent is standard library
    # only, and skipping site saves start-up time on small devices
    head = [python, "-I", "-S", "-u", "-c", LOADER, str(nbytes), payload.sha256, cache]
    if use_sudo:
        head = ["sudo", "-n", *head]
    words = [shlex.quote(a) for a in head]
    if use_sudo:
        # sudo resets the environment: hand the agent the client's address as an
        # argument (expanded by the device's shell) so safe mode's connection
        # check still knows the way back to this desktop
        words.append('--ssh-connection "$SSH_CONNECTION"')
    words += [shlex.quote(a) for a in options.agent_args]
    return options.command_prefix + "exec " + " ".join(words)


class _NotStarted(Exception):
    """The loader process ended before saying ``ok``."""

    def __init__(self, status: int | None, stderr: list[str]):
        super().__init__(status)
        self.status = status
        self.stderr = stderr


async def _open_channel(connection: paramiko.Transport, command: str, timeout: float) -> paramiko.Channel:
    def opener() -> paramiko.Channel:
        chan = connection.open_session(timeout=timeout)
        chan.exec_command(command)
        return chan

    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, opener)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ConnectError("unreachable", f"the SSH connection failed: {exc or type(exc).__name__}") from exc


async def run_loader(connection: paramiko.Transport, endpoint: Endpoint, python: str, payload: Payload,
                     send_now: bool, options: AgentOptions, use_sudo: bool,
                     timeout: float = 30.0) -> tuple[SSHTransport, bool, bool]:
    """Start the loader; return the transport (past the ``ok`` line),
    whether the device now has the payload cached, and whether it was sent."""
    command = loader_command(python, payload, send_now, options, use_sudo)
    chan = await _open_channel(connection, command, timeout)
    # the transport owns (closes) the connection only once the agent runs: a
    # loader that failed leaves it open for another try
    transport = SSHTransport(chan, None, f"{endpoint.user}@{endpoint.display}")
    try:
        if send_now:
            transport.writer.write(payload.blob)
        junk = 0
        while True:
            try:
                line = await asyncio.wait_for(transport.reader.readline(), timeout)
            except ValueError:  # a line longer than the reader's limit: junk
                raise ConnectError("agent-failed", f"{endpoint.display}: too much output before the agent started")
            except asyncio.TimeoutError:
                raise ConnectError("agent-failed", f"{endpoint.display}: the agent did not start within {timeout:g} s")
            if not line:
                raise _NotStarted(await transport.wait_exit_status(), transport.stderr_lines())
            start = line.find(MARK)
            if start < 0:
                junk += len(line)
                if junk > MAX_JUNK:
                    raise ConnectError("agent-failed", f"{endpoint.display}: too much output before the agent started")
                continue
            words = line[start + len(MARK):].decode("ascii", "replace").split()
            if words[:1] == ["need"]:
                send_now = True
                transport.writer.write(b"%d\n" % len(payload.blob) + payload.blob)
            elif words[:1] == ["ok"]:
                if words[1:2] != [payload.sha256]:
                    raise ConnectError("agent-failed", f"{endpoint.display}: the loader started another agent version")
                transport.adopt_connection(connection)
                return transport, words[2:3] == ["cached"], send_now
    except BaseException:
        transport.close()
        raise


def loader_failure(endpoint: Endpoint, err: _NotStarted, python: str) -> ConnectError:
    """Turn a loader that ended early into the ConnectError that says why."""
    where = endpoint.display
    for line in err.stderr:
        if line.startswith("winbox-loader error "):
            _, _, kind_msg = line.partition("winbox-loader error ")
            kind, _, msg = kind_msg.partition(" ")
            return ConnectError("agent-failed", f"{where}: the agent loader failed ({kind}): {msg}")
    sudo = [line for line in err.stderr if line.startswith("sudo:")]
    if sudo:
        return ConnectError("sudo-refused", f"{where}: sudo -n refused to start the agent ({sudo[-1][5:].strip()}); "
                                            f"allow {python} without a password in sudoers, or log in as root.")
    if err.status in (126, 127):
        return ConnectError("no-python", f"{where}: {python} cannot be run on the device "
                                         f"({(err.stderr or ['not found'])[-1].strip()}).")
    tail = " | ".join(line.strip() for line in err.stderr[-5:] if line.strip()) or "no message"
    return ConnectError("agent-failed", f"{where}: the agent exited with status {err.status} before "
                                        f"starting: {tail}")


@dataclass
class Started:
    """An agent running on the device.

    Attributes:
        transport: the SSH transport to it, past the loader's ``ok``.
        python: the interpreter it runs on.
        probe: what the probe found (None when memory made it unnecessary).
        uploaded: the payload was sent over this connection.
    """

    transport: SSHTransport
    python: str
    probe: Probe | None
    uploaded: bool


def memory_key(endpoint: Endpoint, options: AgentOptions) -> str:
    return f"{endpoint.user}@{endpoint.known_hosts_name}" + (" sudo" if options.sudo else "")


async def start_agent(connection: paramiko.Transport, endpoint: Endpoint, options: AgentOptions,
                      memory: HostMemory | None = None, payload: Payload | None = None) -> Started:
    """Probe (unless remembered), push (unless cached) and start the agent."""
    payload = payload or build_payload()
    memory = memory or HostMemory()
    key = memory_key(endpoint, options)
    known = memory.get(key)
    for attempt in (1, 2):
        probed: Probe | None = None
        if known and attempt == 1 and isinstance(known.get("python"), str):
            python = known["python"]
            uid = known.get("uid")
            has_sudo = known.get("sudo", False)
        else:
            probed = await probe(connection, endpoint, options, payload)
            python = pick_python(probed, endpoint.display).path
            uid = probed.uid
            has_sudo = probed.facts.get("sudo") == "yes"
        use_sudo = options.sudo and uid != 0
        if use_sudo and not has_sudo:
            raise ConnectError("sudo-refused", f"{endpoint.display}: --sudo was asked for but sudo is not "
                                               f"installed on the device; log in as root instead.")
        send_now = not (known and known.get("cached") == payload.sha256 and options.cache != "off")
        try:
            transport, cached, sent = await run_loader(connection, endpoint, python, payload, send_now,
                                                 options, use_sudo)
        except _NotStarted as exc:
            error = loader_failure(endpoint, exc, python)
            if probed is None and error.kind == "no-python":
                known = None  # the remembered interpreter is gone: probe again
                continue
            raise error from None
        memory.put(key, {"python": python, "uid": uid, "sudo": has_sudo,
                         "cached": payload.sha256 if cached else None})
        return Started(transport, python, probed, sent)
    raise AssertionError("unreachable")
