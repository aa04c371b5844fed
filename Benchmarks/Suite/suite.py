#!/usr/bin/env python3
"""Runs every benchmark behind Docs/Benchmarks.md and writes bench-results/results.json.

Called by Benchmarks/run (which installs the allocators and builds). The groups, in order:

1. the allocator comparison (allocators.py): every workload under glibc, jemalloc, mimalloc
   and regions, the configurations alternating (rotated order in each round), N rounds; each
   run is a fresh process (measure.py);
2. what the runtime and the layers cost (costs.py): the interposer outside regions
   (binarytree with and without Regions), hookbench, layerbench under each ground, and the
   specialization check.

report.py turns the results file into the tables and charts.
"""
import argparse
import json
import os
import subprocess
import sys
import time

from allocators import CEILING, GROUNDS, generate_json_document, probe, run_workloads
from costs import run_hookbench, run_interposer, run_layerbench, run_specialization
from measure import TIME, machine_description


def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--bin", required=True, help="the release build directory")
    parser.add_argument("--out", required=True, help="the results file (JSON)")
    parser.add_argument("--jemalloc", default="", help="libjemalloc.so path ('' = skipped)")
    parser.add_argument("--mimalloc", default="", help="libmimalloc.so path ('' = skipped)")
    parser.add_argument("--ceiling", default="", help="ceiling.so path, for binarytree only")
    parser.add_argument("--skip-reason", default="", help="why missing allocators are missing")
    parser.add_argument("--command", default="", help="the command line, for the report")
    return parser.parse_args()


def source_revision():
    """The commit the binaries were built from, with `+` if their sources had changes."""
    def git(*arguments):
        process = subprocess.run(["git", *arguments], capture_output=True, text=True)
        return process.stdout.strip() if process.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "?"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "Package.swift",
                  "Sources", "Examples", "Benchmarks")
    return commit + ("+" if changed else "")


def missing_results(report):
    """What produced no result: configurations without a good run, empty groups."""
    missing = [f"{entry['name']} / {configuration['label']}"
               for entry in report["workloads"] + [report["interposer"]]
               for configuration in entry["configurations"] if configuration["runs"] == 0]
    missing += [f"layerbench under {ground}" for ground, rows in report["layerbench"].items()
                if not rows]
    if not report["hookbench"]["rows"]:
        missing.append("hookbench")
    missing += [f"specialization check of {check['function']}"
                for check in report["specialization"]["checks"]
                if not check["verdict"].startswith(("OK", "FAIL"))]
    return missing


def main():
    arguments = parse_arguments()
    runs = arguments.runs or (2 if arguments.quick else 5)
    preloads = {name: path for name, path in
                [("jemalloc", arguments.jemalloc), ("mimalloc", arguments.mimalloc)] if path}
    grounds = ["glibc"] + [name for name in GROUNDS[1:] if name in preloads]
    if arguments.ceiling:
        preloads[CEILING] = arguments.ceiling
    results_directory = os.path.dirname(os.path.abspath(arguments.out))
    records = 4000 if arguments.quick else 40000
    document = os.path.join(results_directory, "data", f"document-{records}.json")
    generate_json_document(document, records)
    load_before = os.getloadavg()
    started = time.time()

    report = {"quick": arguments.quick, "results_file": os.path.relpath(arguments.out),
              "peak_rss_source": "GNU time %M" if os.path.exists(TIME) else
              "wait4 from the Python runner (includes ~18 MiB of the runner)",
              "runs": runs, "command": arguments.command, "revision": source_revision(),
              "machine": machine_description(), "grounds": {}, "probe": {}, "workloads": [],
              "layerbench": {}, "failures": [], "document_bytes": os.path.getsize(document),
              "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))}
    for ground in GROUNDS:
        report["grounds"][ground] = (
            {"available": True, "preload": preloads.get(ground)} if ground in grounds
            else {"available": False, "reason": arguments.skip_reason or "not installed"})

    probe(arguments.bin, grounds, preloads, report)
    run_workloads(arguments.bin, arguments.quick, document, grounds, preloads, runs, report)
    run_interposer(arguments.bin, arguments.quick, preloads, report)
    run_hookbench(arguments.bin, arguments.quick, preloads, report)
    run_layerbench(arguments.bin, arguments.quick, grounds, preloads, report)
    run_specialization(arguments.bin, report)

    report["seconds"] = time.time() - started
    report["load_average"] = {"before": load_before, "after": os.getloadavg()}
    os.makedirs(results_directory, exist_ok=True)
    with open(arguments.out, "w") as file:
        json.dump(report, file, indent=1)
    missing = missing_results(report)
    print(f"wrote {arguments.out} ({report['seconds']:.0f} s)")
    for failure in report["failures"]:
        print(f"FAILED: {failure}", file=sys.stderr)
    for item in missing:
        print(f"NO RESULT: {item}", file=sys.stderr)
    return 1 if report["failures"] or missing else 0


if __name__ == "__main__":
    sys.exit(main())
