"""xflowd as a service, without systemd or root: readiness messages, --daemon, --pid-file.

Usage: service_test.py XFLOWD notify|no-notify (no-notify: the build has no libsystemd,
the readiness part is skipped). Runs in a temporary directory; a few seconds.
  - NOTIFY_SOCKET set to a unix datagram socket bound here: READY=1 (with STATUS=) arrives
    once xflowd --sim runs; SIGHUP brings RELOADING=1 with MONOTONIC_USEC, then READY=1;
    SIGTERM brings STOPPING=1.
  - --daemon --pid-file: the parent exits 0 once the child runs; the pid file names the
    running child; a second start with the same pid file is refused (exit 1, message on
    stderr); SIGTERM removes the file. A stale pid file is replaced with a warning.
  - --daemon with a start-up error (an unusable control socket path): exit 1 and the error
    on the terminal's stderr.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

xflowd = sys.argv[1]
notify = len(sys.argv) < 3 or sys.argv[2] == "notify"
failures = []


def check(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg)
    if not ok:
        failures.append(msg)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_gone(pid, seconds=5.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


# The drop is not under test here: stay who we are, whoever runs the test.
base = [xflowd, "--sim", "--ports", "2", "--collector", "127.0.0.1:9", "--user", "root",
        "--control-socket", "none", "-q"]

with tempfile.TemporaryDirectory(prefix="xf-service-") as tmp:
    # Readiness.
    path = os.path.join(tmp, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    env = dict(os.environ, NOTIFY_SOCKET=path)

    def receive(what):
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            msg = ""
        check(what in msg, f"notify: {what!r} in {msg!r}")
        return msg

    def readiness(proc):
        msg = receive("READY=1")
        check("STATUS=" in msg, "READY=1 comes with a STATUS= line")
        proc.send_signal(signal.SIGHUP)
        msg = receive("RELOADING=1")
        check("MONOTONIC_USEC=" in msg, "RELOADING=1 comes with MONOTONIC_USEC=")
        receive("READY=1")
        proc.send_signal(signal.SIGTERM)
        receive("STOPPING=1")
        _, err = proc.communicate(timeout=5)
        check(proc.returncode == 0, f"exit status {proc.returncode} (stderr: {err.strip()!r})")

    proc = subprocess.Popen(base, env=env, stderr=subprocess.PIPE, text=True)
    if not notify:
        print("skip readiness: this build has no libsystemd")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=5)
    else:
        readiness(proc)
    sock.close()

    # --daemon and --pid-file.
    pid_file = os.path.join(tmp, "xflowd.pid")
    start = time.monotonic()
    r = subprocess.run(base + ["--daemon", "--pid-file", pid_file], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 0, f"--daemon: the parent exits 0 (got {r.returncode}: {r.stderr!r})")
    pid = 0
    try:
        pid = int(open(pid_file).read())
    except (OSError, ValueError):
        pass
    check(pid > 0 and alive(pid), f"the pid file names the running daemon ({pid})")
    if pid > 0:
        sid = os.getsid(pid) if alive(pid) else -1
        check(sid == pid, f"the daemon leads its own session (sid {sid})")
        cwd = os.readlink(f"/proc/{pid}/cwd") if alive(pid) else ""
        check(cwd == "/", f"the daemon runs in / ({cwd!r})")
    r = subprocess.run(base + ["--daemon", "--pid-file", pid_file], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 1 and "is running" in r.stderr,
          f"a second start with the same pid file is refused (exit {r.returncode}: "
          f"{r.stderr.strip()!r})")
    if pid > 0 and alive(pid):
        os.kill(pid, signal.SIGTERM)
        check(wait_gone(pid), "the daemon ends on SIGTERM")
    check(not os.path.exists(pid_file), "the pid file is removed at exit")

    # A stale pid file (a process that is not running) is replaced.
    with open(pid_file, "w") as f:
        f.write("999999999\n")
    r = subprocess.run(base + ["--pid-file", pid_file, "--duration", "1"], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 0 and "stale" in r.stderr,
          f"a stale pid file is replaced with a warning (exit {r.returncode}: "
          f"{r.stderr.strip()!r})")
    check(not os.path.exists(pid_file), "... and removed at exit")

    # A start-up error under --daemon reaches the terminal with its exit status.
    bad = base[:-3] + ["--control-socket", os.path.join(pid_file + ".dir", "x", "s.sock")]
    open(pid_file + ".dir", "w").close()  # a file where a directory is needed
    r = subprocess.run(bad + ["--daemon"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 1 and "control socket" in r.stderr,
          f"--daemon start-up error: exit {r.returncode}, stderr {r.stderr.strip()!r}")
    check(time.monotonic() - start < 20, "quick")

if failures:
    print(f"FAIL: {len(failures)} check(s) failed")
    sys.exit(1)
print("PASS: readiness, --daemon and --pid-file")
