#!/usr/bin/env python3
"""Programs nobody here wrote, run whole on a stack: python3 (JSON and regular expressions),
sqlite3 (a table of 10^5 rows built and queried), sort (a few MiB of lines) and git (log, diff
and grep on a small repository), each under glibc, glibc + LD_PRELOAD jemalloc, glibc +
LD_PRELOAD mimalloc and glibc + LD_PRELOAD libRegionsPreload.so with REGIONS_STACK.
Configurations alternate; every run's output must equal glibc's.

    programs.py --preload LIB --jemalloc LIB --mimalloc LIB --out RESULTS.json [--runs N] [--quick]

Adds the measurements to RESULTS.json (key "programs", beside what suite.py wrote), where
Benchmarks/Report/report.py finds them for the `programs` block of Docs/Benchmarks.md
(`programs_block`), and prints the table.
"""
import argparse
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import alternate, summarize  # noqa: E402

STACK = "SizeClasses { Mmap() }"
WORK = "bench-results/programs"


def workloads(quick):
    """[(name, command)] with their inputs written under WORK."""
    os.makedirs(WORK, exist_ok=True)
    rows = 20_000 if quick else 100_000
    with open(f"{WORK}/table.sql", "w") as file:
        file.write(f"""CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows})
  INSERT INTO t SELECT x, 'name' || x, x * 0.5 FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(v), max(name) FROM t WHERE id % 7 = 3;
SELECT substr(name, 1, 6) AS p, count(*) FROM t GROUP BY p ORDER BY p LIMIT 5;
""")
    generator = random.Random(7)
    with open(f"{WORK}/lines.txt", "w") as file:
        for _ in range(30_000 if quick else 150_000):
            file.write("".join(generator.choice("abcdefghij") for _ in range(generator.randint(5, 40))))
            file.write("\n")
    records = 20_000 if quick else 100_000
    python = (f"import json, re\nrecords = [{{'id': i, 'name': 'item%d' % i, 'tags': ['t%d' % (i % 7)] * 3}}"
              f" for i in range({records})]\ntext = json.dumps(records)\nback = json.loads(text)\n"
              "print(len(text), len(back), sum(int(w) for w in re.findall(r'item(\\d+)', text)))\n")
    repository = f"{WORK}/repository"
    if not os.path.isdir(f"{repository}/.git"):
        subprocess.run(["git", "init", "-q", repository], check=True)
        for index in range(30):
            with open(f"{repository}/file{index % 5}.txt", "a") as file:
                file.write(f"line {index}\n" * 50)
            subprocess.run(["git", "-C", repository, "add", "."], check=True)
            subprocess.run(["git", "-C", repository, "-c", "user.email=a@b.c", "-c", "user.name=N",
                            "commit", "-q", "-m", f"commit {index}"], check=True)
    git = (f"cd {repository} && git log -p --format=%s | wc -l && git diff HEAD~20 --stat | tail -1"
           " && git grep -c line | sort")
    return [("python3", ["/usr/bin/python3", "-c", python]),
            ("sqlite3", ["/bin/sh", "-c", f"/usr/bin/sqlite3 :memory: < {WORK}/table.sql"]),
            ("sort", ["/usr/bin/sort", f"{WORK}/lines.txt"]),
            ("git", ["/bin/sh", "-c", git])]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preload", required=True)
    parser.add_argument("--jemalloc", default="")
    parser.add_argument("--mimalloc", default="")
    parser.add_argument("--out", required=True)
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    runs = arguments.runs or (2 if arguments.quick else 7)
    base = {key: value for key, value in os.environ.items()
            if key not in ("LD_PRELOAD", "REGIONS_STACK", "REGIONS_REPORT")}
    grounds = [("glibc", base)]
    for label, library in (("jemalloc", arguments.jemalloc), ("mimalloc", arguments.mimalloc)):
        if library:
            grounds.append((label, dict(base, LD_PRELOAD=library)))
    grounds.append(("regions", dict(base, LD_PRELOAD=os.path.abspath(arguments.preload),
                                    REGIONS_STACK=STACK)))
    failures, results = [], []
    for name, command in workloads(arguments.quick):
        expected = subprocess.run(command, capture_output=True, env=base, check=True).stdout.decode()
        samples = alternate([(label, command, environment) for label, environment in grounds],
                            runs, lambda label, outcome: outcome["stdout"] == expected[-4000:],
                            failures, name)
        results.append({"program": name, "configurations": [
            summarize(label, command, samples[label]) for label, _ in grounds]})
    document = {"stack": STACK, "runs": runs, "quick": arguments.quick, "programs": results,
                "failures": failures}
    report = {}
    if os.path.exists(arguments.out):
        with open(arguments.out) as file:
            report = json.load(file)
    report["programs"] = document
    with open(arguments.out, "w") as file:
        json.dump(report, file, indent=1)
    print("\n".join(programs_block(report)))
    for failure in failures:
        print("failure:", failure, file=sys.stderr)
    return 1 if failures else 0


def programs_block(report):
    """The `programs` block of Docs/Benchmarks.md (KeyError when the run did not measure it)."""
    return markdown(report["programs"])


def markdown(document):
    labels = [entry["label"] for entry in document["programs"][0]["configurations"]]
    lines = [f"Median of {document['runs']} runs each, alternating; REGIONS_STACK='{document['stack']}'; "
             "every run's output equal to glibc's. Wall time ÷ glibc's, and peak RSS in MiB.", "",
             "| program | glibc s | " + " | ".join(f"{label} ÷ glibc" for label in labels[1:])
             + " | " + " | ".join(f"{label} MiB" for label in labels) + " |",
             "|---|--:|" + "--:|" * (2 * len(labels) - 1)]
    for entry in document["programs"]:
        by_label = {summary["label"]: summary for summary in entry["configurations"]}
        glibc = by_label["glibc"].get("wall")
        ratios = [f"{by_label[label]['wall'] / glibc:.2f}" if glibc and "wall" in by_label[label]
                  else "—" for label in labels[1:]]
        rss = [f"{by_label[label]['maxrss_kib'] / 1024:.1f}" if "maxrss_kib" in by_label[label]
               else "—" for label in labels]
        lines.append(f"| {entry['program']} | {glibc:.3f} | " + " | ".join(ratios) + " | "
                     + " | ".join(rss) + " |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
