#!/usr/bin/env python3
"""Turns bench-results/results.json into Markdown tables and SVG charts.

    report.py RESULTS            # rewrites Docs/Benchmarks.md between the markers, Docs/charts/
    report.py RESULTS --stdout   # prints the Markdown only (quick runs)
"""
import json
import math
import os
import sys

from charts import bar_chart

BEGIN = "<!-- BEGIN Benchmarks/run -->"
END = "<!-- END Benchmarks/run -->"
MIB = 1024 * 1024


def number(value, digits=2):
    return "–" if value is None else f"{value:.{digits}f}"


def ratio(value, base):
    return None if value is None or not base else value / base


def configurations(workload):
    return {c["label"]: c for c in workload["configurations"] if c.get("runs")}


def time_table(report):
    lines = ["| workload | configuration | wall s | ÷ glibc | user+sys s | ÷ glibc | peak RSS MiB | ÷ glibc |",
             "|:--|:--|--:|--:|--:|--:|--:|--:|"]
    for workload in report["workloads"]:
        present = configurations(workload)
        base = present.get("glibc", {})
        for configuration in workload["configurations"]:
            label = configuration["label"]
            if not configuration.get("runs"):
                lines.append(f"| {workload['title']} | {label} | no result | | | | | |")
                continue
            rss = configuration["maxrss_kib"] / 1024
            base_rss = base.get("maxrss_kib", 0) / 1024
            lines.append(
                f"| {workload['title']} | {label} | {number(configuration['wall'], 3)} "
                f"| {number(ratio(configuration['wall'], base.get('wall')))} "
                f"| {number(configuration['cpu'], 3)} | {number(ratio(configuration['cpu'], base.get('cpu')))} "
                f"| {number(rss, 1)} | {number(ratio(rss, base_rss))} |")
    for ground, details in report["grounds"].items():
        if not details["available"]:
            lines.append(f"| all | {ground} | skipped: {details['reason']} | | | | | |")
    return lines


def fragmentation_rows(report):
    workload = next(w for w in report["workloads"] if w["name"] == "fragment")
    rows = []
    for label, configuration in configurations(workload).items():
        result = configuration["results"]
        live_after = result["live_after_bytes"]
        rows.append({
            "label": label,
            "live_peak": result["live_peak_bytes"] / MIB,
            "peak_rss": result["peak_rss_bytes"] / MIB,
            "peak_ratio": result["peak_rss_bytes"] / result["live_peak_bytes"],
            "live_after": live_after / MIB,
            "rss_start": result["rss_start_bytes"] / MIB,
            "rss_frees": result["rss_after_frees_bytes"] / MIB,
            "rss_after": result["rss_after_bytes"] / MIB,
            "after_ratio": result["rss_after_bytes"] / live_after,
            "growth_ratio": (result["rss_after_bytes"] - result["rss_start_bytes"]) / live_after,
        })
    return workload, rows


def fragmentation_table(report):
    workload, rows = fragmentation_rows(report)
    cells = int(next(iter(configurations(workload).values()))["results"]["cells"])
    lines = [f"{cells:,} cells in phase 1 (medians of the runs; MiB = 2^20 bytes).", "",
             "| configuration | live peak MiB | peak RSS MiB | peak RSS ÷ live peak "
             "| RSS after the frees MiB | live after MiB | RSS after MiB | RSS after ÷ live after "
             "| (RSS after − RSS at start) ÷ live after |",
             "|:--|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for row in rows:
        lines.append(
            f"| {row['label']} | {number(row['live_peak'], 1)} | {number(row['peak_rss'], 1)} "
            f"| {number(row['peak_ratio'])} | {number(row['rss_frees'], 1)} "
            f"| {number(row['live_after'], 1)} | {number(row['rss_after'], 1)} "
            f"| {number(row['after_ratio'])} | {number(row['growth_ratio'])} |")
    return lines


def workers_table(report):
    one = next(w for w in report["workloads"] if w["name"] == "workers1")
    two = next(w for w in report["workloads"] if w["name"] == "workers2")
    lines = ["| configuration | ×1 wall s | ×2 wall s | ×2 user+sys s | throughput scaling 2·t₁/t₂ (ideal 2) |",
             "|:--|--:|--:|--:|--:|"]
    for label, single in configurations(one).items():
        double = configurations(two).get(label)
        if not double:
            continue
        lines.append(f"| {label} | {number(single['wall'], 3)} | {number(double['wall'], 3)} "
                     f"| {number(double['cpu'], 3)} | {number(2 * single['wall'] / double['wall'])} |")
    return lines


def layer_table(report):
    grounds = [g for g in ("glibc", "jemalloc", "mimalloc") if g in report["layerbench"]]
    rows = {}
    for ground in grounds:
        for row in report["layerbench"][ground]:
            key = (row["size"], row["layer"], row["operation"])
            rows.setdefault(key, {})[ground] = row["ns"]
    lines = ["| size | layer (explicit mode) or call | operation | " +
             " | ".join(f"ns, ground {g}" for g in grounds) + " |",
             "|--:|:--|:--|" + "--:|" * len(grounds)]
    for (size, layer, operation), values in sorted(rows.items(), key=lambda item: item[0][0]):
        cells = " | ".join(number(values.get(g)) for g in grounds)
        lines.append(f"| {size} | {layer} | {operation} | {cells} |")
    return lines


def probe_table(report):
    lines = ["| ground | `malloc` defined in | next `malloc` (RTLD_NEXT) | served outside regions "
             "| served inside a region |", "|:--|:--|:--|--:|--:|"]
    for ground, probe in report["probe"].items():
        lines.append(f"| {ground} | {os.path.basename(probe.get('probe_malloc_defined_in', '?'))} "
                     f"| {probe.get('probe_next_malloc', '?')} "
                     f"| {probe.get('probe_served_outside_regions', '?')} "
                     f"| {probe.get('probe_served_inside_a_region', '?')} |")
    return lines


def summary(report):
    lines = []
    for workload in report["workloads"]:
        present = configurations(workload)
        base = present.get("glibc")
        if not base:
            continue
        fastest = min(present.values(), key=lambda c: c["wall"])
        regions = [c for label, c in present.items() if label.startswith("regions")]
        text = ", ".join(f"{c['label']} {number(c['wall'] / base['wall'])}×" for c in regions)
        lines.append(f"- {workload['title']}: fastest {fastest['label']} "
                     f"({number(fastest['wall'] / base['wall'])}× glibc's wall time); {text}.")
    return lines


def charts(report, directory):
    series_order = []
    time_groups, rss_groups = [], []
    for workload in report["workloads"]:
        present = configurations(workload)
        base = present.get("glibc")
        if not base:
            continue
        time_bars, rss_bars = [], []
        for label, configuration in present.items():
            if label == "glibc":
                continue
            if label not in series_order:
                series_order.append(label)
            time_bars.append((label, configuration["wall"] / base["wall"]))
            rss_bars.append((label, configuration["maxrss_kib"] / base["maxrss_kib"]))
        time_groups.append((workload["title"], time_bars))
        rss_groups.append((workload["title"], rss_bars))
    written = {}
    written["time"] = bar_chart(time_groups, series_order, "Wall time ÷ glibc (median of runs; "
                                "left of 1 is faster)", logarithmic=True, reference=1.0)
    written["rss"] = bar_chart(rss_groups, series_order, "Peak RSS ÷ glibc (median of runs; "
                               "left of 1 is smaller)", logarithmic=True, reference=1.0)
    _, rows = fragmentation_rows(report)
    written["fragmentation"] = bar_chart(
        [(row["label"], [("peak RSS ÷ live peak", row["peak_ratio"]),
                         ("RSS after ÷ live after", row["after_ratio"])]) for row in rows],
        ["peak RSS ÷ live peak", "RSS after ÷ live after"],
        "Fragmentation: resident set over live bytes (1 = no overhead)", logarithmic=False,
        reference=1.0)
    os.makedirs(directory, exist_ok=True)
    names = {"time": "allocators-time.svg", "rss": "allocators-rss.svg",
             "fragmentation": "fragmentation.svg"}
    for key, svg in written.items():
        with open(os.path.join(directory, names[key]), "w") as file:
            file.write(svg)
    return names


def markdown(report, chart_names):
    machine = report["machine"]
    packages = machine["packages"]
    load = report["load_average"]
    lines = [BEGIN,
             f"*Generated by `{report['command'] or 'Benchmarks/run'}` from "
             f"`{report.get('results_file', 'bench-results/results.json')}` ({report['started']}); "
             "do not edit by hand.*", "",
             f"**Machine.** {machine['cpu']} (CPU family {machine['cpu_family']}), "
             f"{machine['cores']} cores, {machine['memory_gib']} GiB RAM; {machine['os']}, "
             f"Linux {machine['kernel']}, {machine['glibc']}; {machine['swift']}; "
             f"jemalloc {packages['libjemalloc2']}, mimalloc {packages['libmimalloc2.0']} "
             f"(Debian packages). Load average {load['before'][0]:.2f} before the suite, "
             f"{load['after'][0]:.2f} after. {report['runs']} runs per configuration, "
             f"alternating; the suite took {report['seconds'] / 60:.0f} min. "
             f"The JSON document is {report['document_bytes'] / MIB:.1f} MiB.", "",
             "**Which allocator serves `malloc`** (`allocbench probe`, run under each ground):", ""]
    lines += probe_table(report)
    if report.get("bindings"):
        lines += ["", "The dynamic linker's bindings with jemalloc preloaded "
                  "(`LD_DEBUG=bindings`, lines about `malloc`):", "", "```"]
        lines += report["bindings"] + ["```"]
    lines += ["", "### Time and peak RSS per workload", "",
              "Medians over the runs; *÷ glibc* divides by the glibc row of the same workload.", ""]
    lines += time_table(report)
    lines += ["", f"![Wall time ÷ glibc](charts/{chart_names['time']})", "",
              f"![Peak RSS ÷ glibc](charts/{chart_names['rss']})", "", "Summary of the wall times:", ""]
    lines += summary(report)
    lines += ["", "### Fragmentation", ""] + fragmentation_table(report)
    lines += ["", f"![Fragmentation](charts/{chart_names['fragmentation']})"]
    lines += ["", "### Two workers", ""] + workers_table(report)
    lines += ["", "### Explicit-mode pairs under each ground (layerbench)", "",
              "ns per operation, median of layerbench's rounds (one layerbench process per "
              "ground). *malloc/free* is the ground allocator called through "
              "`dlsym(RTLD_NEXT, …)`; the layer rows do not use the ground (except `System()`).", ""]
    lines += layer_table(report)
    lines += [END]
    return "\n".join(lines) + "\n"


def main():
    path = sys.argv[1]
    with open(path) as file:
        report = json.load(file)
    if "--stdout" in sys.argv:
        chart_names = charts(report, os.path.join(os.path.dirname(path), "charts"))
        print(markdown(report, chart_names))
        return
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    chart_names = charts(report, os.path.join(root, "Docs", "charts"))
    document_path = os.path.join(root, "Docs", "Benchmarks.md")
    text = open(document_path).read()
    generated = markdown(report, chart_names)
    if BEGIN in text and END in text:
        start = text.index(BEGIN)
        end = text.index(END) + len(END) + 1
        text = text[:start] + generated + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + generated
    with open(document_path, "w") as file:
        file.write(text)
    print(f"updated {os.path.relpath(document_path)} and Docs/charts/")


if __name__ == "__main__":
    main()
