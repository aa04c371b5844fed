"""The allocator comparison: every workload under glibc, jemalloc, mimalloc and regions.

Part of Benchmarks/Suite/suite.py (Docs/Benchmarks.md, "Allocator comparison"). Each workload's
malloc command runs under every ground (glibc, or an allocator preloaded with LD_PRELOAD); its
region commands run under glibc.
"""
import json
import os
import random
import re
import subprocess

from measure import alternate, environment_for, relative, run_once, summarize

GROUNDS = ["glibc", "jemalloc", "mimalloc"]
# binarytree also runs its malloc mode over Benchmarks/Programs/ceiling/ceiling.c (preloaded): not an
# allocator, but about the least work any allocator can do per block, so that row bounds what
# any allocator (a region included) can gain on the program.
CEILING = "ceiling (not an allocator)"


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
                "matrix": [[rng.randint(-99, 99) for _ in range(4)]
                           for _ in range(rng.randint(0, 4))],
                "comment": None if rng.random() < 0.3 else text(rng.randint(3, 20)),
            }
            file.write(("," if index else "") + json.dumps(record, separators=(",", ":")))
        file.write("]\n")
    os.replace(path + ".tmp", path)


def workloads(binaries, quick, document):
    """(name, title, description, malloc command, [(region label, region command)])."""
    depth = "14" if quick else "21"
    binarytree = os.path.join(binaries, "binarytree")
    jsonparse = os.path.join(binaries, "jsonparse")
    allocbench = [os.path.join(binaries, "allocbench")]
    quick_flag = ["--quick"] if quick else []

    def bench(name, *extra):
        return allocbench + [name] + list(extra) + quick_flag

    def regions(name, *extra, stacks=("chunk", "sizeclasses")):
        labels = {"chunk": "regions: Chunk", "sizeclasses": "regions: SizeClasses"}
        return [(labels[stack], bench(name, *extra, "--mode", "region", "--stack", stack))
                for stack in stacks]

    def workers_regions(count):
        shared = regions("workers", "--workers", count, stacks=("sizeclasses",))
        lockless = [("regions: PerThread{SizeClasses}, shared",
                     bench("workers", "--workers", count, "--mode", "region", "--stack",
                           "perthread"))]
        return shared + lockless + [("regions: SizeClasses, a region per worker",
                          bench("workers", "--workers", count, "--mode", "region", "--stack",
                                "sizeclasses", "--region-per-worker"))]

    return [
        ("binarytree", f"binarytree {depth}", "Benchmarks Game binary trees; regions: a "
         "Chunk(1 MiB) arena per batch of temporary trees",
         [binarytree, depth, "--mode", "malloc"],
         [("regions: Chunk", [binarytree, depth, "--mode", "region"])]),
        ("jsonparse", "jsonparse", "Foundation's JSONSerialization over the generated document; "
         "regions: the parse in a Stats { Chunk(256 KiB) } region",
         [jsonparse, "--mode", "malloc", document],
         [("regions: Stats{Chunk}", [jsonparse, document])]),
        ("small", "small 64 B", "rounds of 4096 malloc(64) then 4096 free",
         bench("small"), regions("small")),
        ("mixed", "mixed 8 B–4 KiB", "a working set of 8192 blocks, one replaced per step",
         bench("mixed"), regions("mixed", stacks=("sizeclasses",))),
        ("realloc", "realloc growth", "four buffers grown together 16 B → 64 KiB by realloc",
         bench("realloc"), regions("realloc")),
        ("fragment", "fragmentation", "cells of 16–64 B, 9/10 freed, a scattered tenth kept, "
         "then cells of 80–128 B; regions: the tenth in its own region",
         bench("fragment"), regions("fragment")),
        ("workers1", "workers ×1", "one task building and dropping trees of depth 14",
         bench("workers", "--workers", "1"), workers_regions("1")),
        ("workers2", "workers ×2", "two tasks of a task group, each doing the work of ×1; "
         "regions: both in one shared region, or each in a region of its own",
         bench("workers", "--workers", "2"), workers_regions("2")),
        ("requests", "requests", "2 × cores tasks handling requests: Foundation JSON decode of "
         "4 KiB, an await, a dictionary, a response; regions: a Chunk(64 KiB) region per request",
         bench("requests"), [("regions: Chunk per request", bench("requests", "--mode", "region",
                                                                  "--stack", "chunk"))]),
    ]


def expected_output(name):
    """What a run of workload `name` must print to count as having produced a result."""
    if name == "binarytree":
        return r"^long lived tree of depth \d+\t check: \d+$"
    if name == "jsonparse":
        return r"^document-\d+\.json\t[1-9]\d*(\t|$)"
    return r"^result seconds [0-9.e-]+$"


def probe(binaries, grounds, preloads, report):
    """Which allocator serves malloc outside regions, checked by behaviour in each ground."""
    for ground in grounds:
        outcome = run_once([os.path.join(binaries, "allocbench"), "probe"],
                           environment_for(ground, preloads))
        report["probe"][ground] = outcome["results"]
        if outcome["status"] != 0 or outcome["results"].get("probe_ground") != ground or \
                outcome["results"].get("probe_served_outside_regions") != "1000/1000":
            report["failures"].append(f"probe under {ground}: {outcome['results']}")
    report["bindings"] = binding_evidence(binaries, preloads)


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


def run_workloads(binaries, quick, document, grounds, preloads, runs, report):
    """Every workload under every configuration; appends an entry per workload to the report."""
    for name, title, description, malloc_command, region_commands in workloads(
            binaries, quick, document):
        configurations = [(ground, malloc_command, environment_for(ground, preloads))
                          for ground in grounds]
        if name == "binarytree" and CEILING in preloads:
            configurations.append(
                (CEILING, malloc_command, environment_for(CEILING, preloads)))
        configurations += [(label, command, environment_for("glibc", preloads))
                           for label, command in region_commands]
        outputs = {}

        def accept(label, outcome):
            if not re.search(expected_output(name), outcome["stdout"], re.M):
                return False
            if name in ("binarytree", "jsonparse"):
                # The program's own output (tree checks, value counts) must not depend on
                # the allocator: compare it across configurations.
                answer = outcome["stdout"] if name == "binarytree" else re.search(
                    r"^document-\d+\.json\t(\d+)", outcome["stdout"], re.M).group(1)
                outputs.setdefault(answer, []).append(label)
            return True

        samples = alternate(configurations, runs, accept, report["failures"], title)
        if len(outputs) > 1:
            report["failures"].append(f"{name}: the output differs between configurations: "
                                      f"{sorted(set(map(tuple, outputs.values())))}")
        report["workloads"].append({
            "name": name, "title": title, "description": description,
            "command": relative(malloc_command),
            "configurations": [summarize(label, command, samples[label])
                               for label, command, _ in configurations]})
