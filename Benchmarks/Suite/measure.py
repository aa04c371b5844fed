"""How Benchmarks/Suite/suite.py runs a program and summarizes its runs (shared by every group).

A run is a fresh process started under GNU time; its wall time comes from the runner, its
user+sys time from wait4(2), its peak RSS from GNU time. Configurations alternate: every round
runs each configuration once, in an order rotated from round to round.
"""
import os
import platform
import re
import subprocess
import tempfile
import time
from statistics import median

TIME = "/usr/bin/time"  # GNU time (Debian package `time`)


def relative(command):
    """A command line as text, with absolute paths made relative to the working directory."""
    return " ".join(os.path.relpath(part) if os.path.isabs(part) else part for part in command)


def environment_for(ground, preloads):
    """The environment of a run under `ground`: glibc, or an allocator from `preloads`."""
    environment = dict(os.environ)
    environment.pop("LD_PRELOAD", None)
    if ground != "glibc":
        environment["LD_PRELOAD"] = preloads[ground]
    return environment


def run_once(command, environment):
    """Runs `command` under GNU time; returns wall seconds, user+sys seconds, peak RSS (KiB),
    exit status, output, and the `result KEY VALUE` lines it printed.

    The peak RSS comes from GNU time (`%M`), not from our own wait4: a child forked from this
    Python process keeps the parent's resident set (~18 MiB) as its high-water mark across
    exec, while time's child is forked from a ~2 MiB process.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as timing:
        start = time.perf_counter()
        launcher = [TIME, "-f", "%M", "-o", timing.name] if os.path.exists(TIME) else []
        process = subprocess.Popen(launcher + command, stdout=out, stderr=err, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        lines = timing.read().split()
        # Without GNU time, fall back to our own wait4 (the figure then includes ~18 MiB).
        peak = int(lines[-1]) if lines and lines[-1].isdigit() else usage.ru_maxrss
    results = {}
    for line in stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0] == "result":
            results[parts[1]] = parts[2]
    # user+sys: wait4 on time counts time itself (~1 ms) and the program it waited for.
    return {"status": process.returncode, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss_kib": peak, "results": results, "stdout": stdout[-4000:],
            "stderr": stderr[-2000:] if process.returncode else ""}


def alternate(configurations, runs, accept, failures, name):
    """Runs every configuration `runs` times, alternating; returns {label: [outcome]}.

    `configurations` is [(label, command, environment)]; an outcome counts (`ok`) if the
    process exits 0 and `accept(label, outcome)` is true; the others go to `failures`.
    Every outcome records the round it ran in.
    """
    samples = {label: [] for label, _, _ in configurations}
    print(f"{name}: {len(configurations)} configurations × {runs} runs", flush=True)
    for round_index in range(runs):
        shift = round_index % len(configurations)
        for label, command, environment in configurations[shift:] + configurations[:shift]:
            outcome = run_once(command, environment)
            outcome["round"] = round_index
            outcome["ok"] = outcome["status"] == 0 and accept(label, outcome)
            samples[label].append(outcome)
            if not outcome["ok"]:
                failures.append(f"{name} / {label}: status {outcome['status']}: "
                                f"{outcome['stderr'] or outcome['stdout'][-300:]}")
    return samples


def summarize(label, command, outcomes):
    """A configuration's entry in results.json: its runs, and the medians of the good ones."""
    good = [outcome for outcome in outcomes if outcome["ok"]]
    summary = {"label": label, "runs": len(good), "command": relative(command),
               "samples": [{key: outcome[key] for key in ("round", "wall", "cpu", "maxrss_kib")}
                           for outcome in good]}
    if good:
        summary["wall"] = median(outcome["wall"] for outcome in good)
        summary["fastest"] = min(outcome["wall"] for outcome in good)
        summary["cpu"] = median(outcome["cpu"] for outcome in good)
        summary["maxrss_kib"] = median(outcome["maxrss_kib"] for outcome in good)
        numeric = {}
        for key in good[0]["results"]:
            values = [float(outcome["results"][key]) for outcome in good
                      if re.fullmatch(r"-?[0-9.e+-]+", outcome["results"].get(key, "x"))]
            if values:
                numeric[key] = median(values)
        summary["results"] = numeric
    return summary


def machine_description():
    """CPU, memory, OS, C library, Swift, and the Debian allocators' versions."""
    def first(pattern, text, default="?"):
        match = re.search(pattern, text, re.MULTILINE)
        return match.group(1).strip() if match else default

    cpuinfo = open("/proc/cpuinfo").read()
    meminfo = open("/proc/meminfo").read()
    release = open("/etc/os-release").read() if os.path.exists("/etc/os-release") else ""
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True)
    versions = {}
    for package in ["libjemalloc2", "libmimalloc2.0"]:
        query = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                               capture_output=True, text=True)
        versions[package] = query.stdout.strip() if query.returncode == 0 else "not installed"
    return {
        "cpu": first(r"^model name\s*:\s*(.*)$", cpuinfo),
        "cpu_family": first(r"^cpu family\s*:\s*(.*)$", cpuinfo),
        "cores": os.cpu_count(),
        "memory_gib": round(int(first(r"^MemTotal:\s*(\d+)", meminfo, "0")) / 1024 / 1024, 1),
        "os": first(r'^PRETTY_NAME="?([^"\n]*)"?$', release),
        "kernel": platform.release(),
        "glibc": os.confstr("CS_GNU_LIBC_VERSION"),
        "swift": (swift.stdout or swift.stderr).strip().splitlines()[0]
        if swift.returncode == 0 else "?",
        "packages": versions,
    }
