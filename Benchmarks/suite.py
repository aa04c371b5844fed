#!/usr/bin/env python3
"""Runs the allocator comparison and writes bench-results/results.json.

Called by Benchmarks/run (which installs the allocators and builds); see Docs/Benchmarks.md,
"Allocator comparison". Every workload runs under every configuration, the configurations
alternating (rotated order in each round), N rounds; each run is a fresh process whose wall
time, user+sys time and peak RSS come from wait4(2).
"""
import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from statistics import median

GROUNDS = ["glibc", "jemalloc", "mimalloc"]
TIME = "/usr/bin/time"  # GNU time (Debian package `time`)


def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--bin", required=True, help="the release build directory")
    parser.add_argument("--out", required=True, help="the results file (JSON)")
    parser.add_argument("--jemalloc", default="", help="libjemalloc.so path ('' = skipped)")
    parser.add_argument("--mimalloc", default="", help="libmimalloc.so path ('' = skipped)")
    parser.add_argument("--skip-reason", default="", help="why missing allocators are missing")
    parser.add_argument("--command", default="", help="the command line, for the report")
    return parser.parse_args()


def generate_json_document(path, records):
    """A deterministic JSON document: `records` objects with nested objects, arrays, strings."""
    if os.path.exists(path):
        return
    rng = random.Random(20240601)
    words = ["alpha", "beta", "gamma", "delta", "region", "layer", "chunk", "stack", "heap",
             "arena", "escape", "tree", "node", "json", "swift", "memory", "page", "span"]
    cities = ["Lyon", "Porto", "Oslo", "Kyoto", "Quito", "Perth", "Cairo", "Lima"]

    def text(count):
        return " ".join(rng.choice(words) for _ in range(count))

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as file:
        file.write("[")
        for index in range(records):
            record = {
                "id": index,
                "name": text(2).title(),
                "active": rng.random() < 0.5,
                "score": round(rng.uniform(0, 1000), 3),
                "tags": [rng.choice(words) for _ in range(rng.randint(0, 8))],
                "address": {"street": f"{rng.randint(1, 999)} {text(2)} street",
                            "city": rng.choice(cities), "zip": f"{rng.randint(0, 99999):05d}"},
                "history": [{"day": rng.randint(1, 28), "amount": round(rng.uniform(-50, 50), 2),
                             "note": text(rng.randint(1, 6)), "flags": {"ok": rng.random() < 0.9}}
                            for _ in range(rng.randint(0, 10))],
                "matrix": [[rng.randint(-99, 99) for _ in range(4)] for _ in range(rng.randint(0, 4))],
                "comment": None if rng.random() < 0.3 else text(rng.randint(3, 20)),
            }
            file.write(("," if index else "") + json.dumps(record, separators=(",", ":")))
        file.write("]\n")
    os.replace(path + ".tmp", path)


def workloads(binaries, quick, document):
    """(name, title, description, malloc command, [(region label, region command)])."""
    depth = "14" if quick else "21"
    allocbench = [os.path.join(binaries, "allocbench")]
    quick_flag = ["--quick"] if quick else []

    def bench(name, *extra):
        return allocbench + [name] + list(extra) + quick_flag

    return [
        ("binarytree", f"binarytree {depth}", "Benchmarks Game binary trees; regions: a Chunk(1 MiB) "
         "arena per batch of temporary trees",
         [os.path.join(binaries, "binarytree"), depth, "--mode", "malloc"],
         [("regions: Chunk", [os.path.join(binaries, "binarytree"), depth, "--mode", "region"])]),
        ("jsonparse", "jsonparse", "Foundation's JSONSerialization over the generated document; "
         "regions: the parse in a Stats { Chunk(256 KiB) } region",
         [os.path.join(binaries, "jsonparse"), "--mode", "malloc", document],
         [("regions: Stats{Chunk}", [os.path.join(binaries, "jsonparse"), document])]),
        ("small", "small 64 B", "rounds of 4096 malloc(64) then 4096 free",
         bench("small"),
         [("regions: Chunk", bench("small", "--mode", "region", "--stack", "chunk")),
          ("regions: SizeClasses", bench("small", "--mode", "region", "--stack", "sizeclasses"))]),
        ("mixed", "mixed 8 B–4 KiB", "a working set of 8192 blocks, one replaced per step",
         bench("mixed"),
         [("regions: SizeClasses", bench("mixed", "--mode", "region", "--stack", "sizeclasses"))]),
        ("realloc", "realloc growth", "four buffers grown together 16 B → 64 KiB by realloc",
         bench("realloc"),
         [("regions: Chunk", bench("realloc", "--mode", "region", "--stack", "chunk")),
          ("regions: SizeClasses", bench("realloc", "--mode", "region", "--stack", "sizeclasses"))]),
        ("fragment", "fragmentation", "cells of 16–64 B, 9/10 freed, a scattered tenth kept, "
         "then cells of 80–128 B; regions: the tenth in its own region",
         bench("fragment"),
         [("regions: Chunk", bench("fragment", "--mode", "region", "--stack", "chunk")),
          ("regions: SizeClasses", bench("fragment", "--mode", "region", "--stack", "sizeclasses"))]),
        ("workers1", "workers ×1", "one task building and dropping trees of depth 14",
         bench("workers", "--workers", "1"),
         [("regions: SizeClasses", bench("workers", "--workers", "1", "--mode", "region",
                                         "--stack", "sizeclasses"))]),
        ("workers2", "workers ×2", "two tasks of a task group, each doing the work of ×1; "
         "regions: both in one shared region",
         bench("workers", "--workers", "2"),
         [("regions: SizeClasses", bench("workers", "--workers", "2", "--mode", "region",
                                         "--stack", "sizeclasses"))]),
    ]


def expected_output(name):
    """What a run of workload `name` must print to count as having produced a result."""
    if name == "binarytree":
        return r"^long lived tree of depth \d+\t check: \d+$"
    if name == "jsonparse":
        return r"^document-\d+\.json\t[1-9]\d*(\t|$)"
    return r"^result seconds [0-9.e-]+$"


def run_once(command, environment):
    """Runs `command` under GNU time; returns wall seconds, user+sys seconds, peak RSS (KiB),
    exit status and output.

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


def environment_for(ground, preloads):
    environment = dict(os.environ)
    environment.pop("LD_PRELOAD", None)
    if ground != "glibc":
        environment["LD_PRELOAD"] = preloads[ground]
    return environment


def machine_description():
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
        "swift": (swift.stdout or swift.stderr).strip().splitlines()[0] if swift.returncode == 0 else "?",
        "packages": versions,
    }


def binding_evidence(binaries, preloads):
    """What the dynamic linker binds libswiftCore's malloc to, with jemalloc preloaded."""
    if "jemalloc" not in preloads:
        return []
    environment = environment_for("jemalloc", preloads)
    environment["LD_DEBUG"] = "bindings"
    process = subprocess.run([os.path.join(binaries, "allocbench"), "probe"], env=environment,
                             capture_output=True, text=True)
    lines = []
    for line in process.stderr.splitlines():
        if "normal symbol `malloc'" in line and ("libswiftCore" in line or "libc.so" in line):
            lines.append(re.sub(r"^\s*\d+:\s*", "", line).replace(binaries + "/", ""))
    return sorted(set(lines))[:6]


def main():
    arguments = parse_arguments()
    runs = arguments.runs or (2 if arguments.quick else 5)
    preloads = {name: path for name, path in
                [("jemalloc", arguments.jemalloc), ("mimalloc", arguments.mimalloc)] if path}
    grounds = ["glibc"] + [name for name in GROUNDS[1:] if name in preloads]
    results_directory = os.path.dirname(os.path.abspath(arguments.out))
    records = 4000 if arguments.quick else 40000
    document = os.path.join(results_directory, "data", f"document-{records}.json")
    generate_json_document(document, records)
    load_before = os.getloadavg()
    started = time.time()

    report = {"quick": arguments.quick, "peak_rss_source": "GNU time %M" if os.path.exists(
                  TIME) else "wait4 from the Python runner (includes ~18 MiB of the runner)", "results_file": os.path.relpath(arguments.out), "runs": runs, "command": arguments.command,
              "machine": machine_description(), "grounds": {}, "probe": {}, "workloads": [],
              "layerbench": {}, "failures": [],
              "document_bytes": os.path.getsize(document), "started": time.strftime(
                  "%Y-%m-%d %H:%M UTC", time.gmtime(started))}
    for ground in GROUNDS:
        report["grounds"][ground] = (
            {"available": True, "preload": preloads.get(ground)} if ground in grounds
            else {"available": False, "reason": arguments.skip_reason or "not installed"})

    # Which allocator serves malloc outside regions, checked by behaviour in each ground.
    for ground in grounds:
        outcome = run_once([os.path.join(arguments.bin, "allocbench"), "probe"],
                           environment_for(ground, preloads))
        report["probe"][ground] = outcome["results"]
        expected = "glibc" if ground == "glibc" else ground
        if outcome["status"] != 0 or outcome["results"].get("probe_ground") != expected or \
                outcome["results"].get("probe_served_outside_regions") != "1000/1000":
            report["failures"].append(f"probe under {ground}: {outcome['results']}")
    report["bindings"] = binding_evidence(arguments.bin, preloads)

    for name, title, description, malloc_command, region_commands in workloads(
            arguments.bin, arguments.quick, document):
        configurations = [(ground, malloc_command, environment_for(ground, preloads))
                          for ground in grounds]
        configurations += [(label, command, environment_for("glibc", preloads))
                           for label, command in region_commands]
        samples = {label: [] for label, _, _ in configurations}
        outputs = {}
        print(f"{title}: {len(configurations)} configurations × {runs} runs", flush=True)
        for round_index in range(runs):
            shift = round_index % len(configurations)
            for label, command, environment in configurations[shift:] + configurations[:shift]:
                outcome = run_once(command, environment)
                outcome["ok"] = outcome["status"] == 0 and bool(
                    re.search(expected_output(name), outcome["stdout"], re.M))
                if outcome["ok"] and name in ("binarytree", "jsonparse"):
                    # The program's own output (tree checks, value counts) must not depend
                    # on the allocator: compare it across configurations.
                    answer = outcome["stdout"] if name == "binarytree" else re.search(
                        r"^document-\d+\.json\t(\d+)", outcome["stdout"], re.M).group(1)
                    outputs.setdefault(answer, []).append(label)
                samples[label].append(outcome)
                if not outcome["ok"]:
                    report["failures"].append(
                        f"{name} / {label}: status {outcome['status']}: {outcome['stderr']}")
        if len(outputs) > 1:
            report["failures"].append(f"{name}: the output differs between configurations: "
                                      f"{sorted(set(map(tuple, outputs.values())))}")
        entry = {"name": name, "title": title, "description": description,
                 "command": " ".join(os.path.relpath(part) if os.path.isabs(part) else part
                                     for part in malloc_command),
                 "configurations": []}
        for label, command, _ in configurations:
            good = [sample for sample in samples[label] if sample["ok"]]
            summary = {"label": label, "runs": len(good),
                       "command": " ".join(os.path.relpath(part) if os.path.isabs(part) else part
                                           for part in command),
                       "samples": [{key: sample[key] for key in ("wall", "cpu", "maxrss_kib")}
                                   for sample in good]}
            if good:
                summary["wall"] = median(sample["wall"] for sample in good)
                summary["cpu"] = median(sample["cpu"] for sample in good)
                summary["maxrss_kib"] = median(sample["maxrss_kib"] for sample in good)
                numeric = {}
                for key in good[0]["results"]:
                    values = [float(sample["results"][key]) for sample in good
                              if re.fullmatch(r"-?[0-9.e+-]+", sample["results"].get(key, "x"))]
                    if values:
                        numeric[key] = median(values)
                summary["results"] = numeric
            entry["configurations"].append(summary)
        report["workloads"].append(entry)

    # Explicit-mode layer pairs: layerbench once per ground (it alternates and repeats inside).
    for ground in grounds:
        command = [os.path.join(arguments.bin, "layerbench"), "--tsv"] + (
            ["--quick"] if arguments.quick else [])
        process = subprocess.run(command, env=environment_for(ground, preloads),
                                 capture_output=True, text=True)
        rows = [line.split("\t") for line in process.stdout.splitlines()[1:] if line.count("\t") == 5]
        report["layerbench"][ground] = [
            {"layer": row[0], "size": int(row[1]), "operation": row[2], "ns": float(row[3]),
             "fastest_ns": float(row[4]), "ratio": float(row[5])} for row in rows]
        if process.returncode != 0 or not rows:
            report["failures"].append(f"layerbench under {ground}: status {process.returncode}")

    report["seconds"] = time.time() - started
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    os.makedirs(results_directory, exist_ok=True)
    with open(arguments.out, "w") as file:
        json.dump(report, file, indent=1)
    missing = [f"{entry['name']} / {configuration['label']}" for entry in report["workloads"]
               for configuration in entry["configurations"] if configuration["runs"] == 0]
    print(f"wrote {arguments.out} ({report['seconds']:.0f} s)")
    for failure in report["failures"]:
        print(f"FAILED: {failure}", file=sys.stderr)
    for item in missing:
        print(f"NO RESULT: {item}", file=sys.stderr)
    return 1 if report["failures"] or missing else 0


if __name__ == "__main__":
    sys.exit(main())
