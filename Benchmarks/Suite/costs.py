"""What the Regions runtime and the layers cost: the groups of Benchmarks/Suite/suite.py beyond the
allocator workloads (Docs/Benchmarks.md, first sections).

- the interposer outside regions: `binarytree --mode malloc` (Regions linked, no region
  entered) against `binarytree-ground` (the same source built without Regions), alternating;
- hookbench: ns per malloc+free pair outside and inside regions (`hookbench --tsv`);
- layerbench: ns per operation of composed layers in explicit mode, under each ground;
- the specialization check (`Benchmarks/Tools/check-specialization.sh`) on layerbench's loops.
"""
import os
import re
import subprocess

from allocators import expected_output
from measure import alternate, environment_for, relative, summarize

# layerbench's loop functions the specialization check walks (the first is the card's stack).
SPECIALIZED_FUNCTIONS = ["cardStackPairs", "chunkPairs", "statsChunkPairs", "systemPairs",
                         "mmapPairs", "cardStackAllocations"]


def run_interposer(binaries, quick, preloads, report):
    """`binarytree --mode malloc` against `binarytree-ground` at one depth, many rounds."""
    depth, rounds = ("14", 3) if quick else ("18", 21)
    configurations = [
        ("ground", [os.path.join(binaries, "binarytree-ground"), depth, "--mode", "malloc"]),
        ("malloc", [os.path.join(binaries, "binarytree"), depth, "--mode", "malloc"]),
    ]
    outputs = set()

    def accept(label, outcome):
        if not re.search(expected_output("binarytree"), outcome["stdout"], re.M):
            return False
        outputs.add(outcome["stdout"])  # the tree checks must not depend on the build
        return True

    environment = environment_for("glibc", preloads)
    title = f"binarytree {depth} outside regions"
    samples = alternate([(label, command, environment) for label, command in configurations],
                        rounds, accept, report["failures"], title)
    if len(outputs) > 1:
        report["failures"].append(f"{title}: the output differs between the two builds")
    report["interposer"] = {
        "name": "interposer", "title": title, "depth": int(depth), "rounds": rounds,
        "baseline": "ground",
        "configurations": [summarize(label, command, samples[label])
                           for label, command in configurations]}


def tab_separated(process, fields):
    """The rows of a program's `--tsv` output (after its header) with `fields` columns."""
    return [line.split("\t") for line in process.stdout.splitlines()[1:]
            if line.count("\t") == fields - 1]


def run_hookbench(binaries, quick, preloads, report):
    """hookbench's rows, under glibc: the hook's pair in each place against glibc's own."""
    command = [os.path.join(binaries, "hookbench"), "--tsv"] + (["--quick"] if quick else [])
    print("hookbench", flush=True)
    process = subprocess.run(command, env=environment_for("glibc", preloads),
                             capture_output=True, text=True)
    rows = tab_separated(process, 7)
    report["hookbench"] = {"command": relative(command), "ground": "glibc", "rows": [
        {"place": row[0], "title": row[1], "size": int(row[2]), "ns": float(row[3]),
         "fastest_ns": float(row[4]), "minus_glibc_ns": float(row[5]), "ratio": float(row[6])}
        for row in rows]}
    if process.returncode != 0 or not rows:
        report["failures"].append(f"hookbench: status {process.returncode}: "
                                  f"{process.stdout[-300:]}{process.stderr[-300:]}")


def run_layerbench(binaries, quick, grounds, preloads, report):
    """layerbench once per ground (it alternates and repeats inside)."""
    command = [os.path.join(binaries, "layerbench"), "--tsv"] + (["--quick"] if quick else [])
    report["layerbench_command"] = relative(command)
    for ground in grounds:
        print(f"layerbench under {ground}", flush=True)
        process = subprocess.run(command, env=environment_for(ground, preloads),
                                 capture_output=True, text=True)
        rows = tab_separated(process, 6)
        report["layerbench"][ground] = [
            {"layer": row[0], "size": int(row[1]), "operation": row[2], "ns": float(row[3]),
             "fastest_ns": float(row[4]), "ratio": float(row[5])} for row in rows]
        if process.returncode != 0 or not rows:
            report["failures"].append(f"layerbench under {ground}: status {process.returncode}")


def run_specialization(binaries, report):
    """The specialization check on each of layerbench's loops: a verdict, and what it walked.

    A FAIL verdict is a result (recorded and reported); a check that cannot run is a failure.
    """
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tools", "check-specialization.sh")
    environment = dict(os.environ, LAYERBENCH=os.path.join(binaries, "layerbench"))
    print(f"specialization check: {len(SPECIALIZED_FUNCTIONS)} functions", flush=True)
    checks = []
    for function in SPECIALIZED_FUNCTIONS:
        process = subprocess.run([script, function], env=environment, capture_output=True,
                                 text=True)
        lines = process.stdout.splitlines()
        verdict = lines[-1] if lines else ""
        # The listing without addresses: they change with every build.
        listing = [re.sub(r"^  [0-9a-f]{16}  ", "  ", line) for line in lines]
        checks.append({"function": function, "status": process.returncode,
                       "passed": process.returncode == 0 and verdict.startswith("OK"),
                       "verdict": verdict, "output": listing})
        if process.returncode not in (0, 1) or not verdict.startswith(("OK", "FAIL")):
            report["failures"].append(f"specialization check of {function}: status "
                                      f"{process.returncode}: {process.stderr[-300:]}")
        elif process.returncode == 1:
            print(f"warning: {function} is not fully specialized (see the report)", flush=True)
    report["specialization"] = {"command": "Benchmarks/Tools/check-specialization.sh FUNCTION",
                                "checks": checks}
