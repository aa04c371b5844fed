"""The allocator comparison's tables and charts (Docs/Benchmarks.md, "Allocator comparison")."""
import os

from allocators import CEILING
from charts import bar_chart
from report_tables import MIB, configurations, number, ratio, table


def probe_block(report):
    lines = table([("ground", "l"), ("`malloc` defined in", "l"),
                   ("next `malloc` (RTLD_NEXT)", "l"), ("served outside regions", "r"),
                   ("served inside a region", "r")],
                  [[ground, os.path.basename(probe.get("probe_malloc_defined_in", "?")),
                    probe.get("probe_next_malloc", "?"),
                    probe.get("probe_served_outside_regions", "?"),
                    probe.get("probe_served_inside_a_region", "?")]
                   for ground, probe in report["probe"].items()])
    if report.get("bindings"):
        lines += ["", "The dynamic linker's bindings with jemalloc preloaded "
                  "(`LD_DEBUG=bindings`, lines about `malloc`):", "", "```"]
        lines += report["bindings"] + ["```"]
    return lines


def time_table(report):
    rows = []
    for workload in report["workloads"]:
        base = configurations(workload).get("glibc", {})
        for configuration in workload["configurations"]:
            label = configuration["label"]
            if not configuration.get("runs"):
                rows.append([workload["title"], label, "no result", "", "", "", "", ""])
                continue
            rss = configuration["maxrss_kib"] / 1024
            rows.append([
                workload["title"], label, number(configuration["wall"], 3),
                number(ratio(configuration["wall"], base.get("wall"))),
                number(configuration["cpu"], 3),
                number(ratio(configuration["cpu"], base.get("cpu"))),
                number(rss, 1), number(ratio(rss, base.get("maxrss_kib", 0) / 1024))])
    for ground, details in report["grounds"].items():
        if not details["available"]:
            rows.append(["all", ground, f"skipped: {details['reason']}", "", "", "", "", ""])
    return table([("workload", "l"), ("configuration", "l"), ("wall s", "r"), ("÷ glibc", "r"),
                  ("user+sys s", "r"), ("÷ glibc", "r"), ("peak RSS MiB", "r"), ("÷ glibc", "r")],
                 rows)


def against_glibc(report):
    """(workload, its configurations with a result by label, its glibc configuration) for each
    workload whose glibc configuration produced a result."""
    for workload in report["workloads"]:
        present = configurations(workload)
        if present.get("glibc"):
            yield workload, present, present["glibc"]


def summary(report):
    lines = []
    for workload, present, base in against_glibc(report):
        fastest = min((c for label, c in present.items() if label != CEILING),
                      key=lambda c: c["wall"])
        regions = [c for label, c in present.items() if label.startswith("regions")]
        text = ", ".join(f"{c['label']} {number(c['wall'] / base['wall'])}×" for c in regions)
        lines.append(f"- {workload['title']}: fastest {fastest['label']} "
                     f"({number(fastest['wall'] / base['wall'])}× glibc's wall time); {text}.")
    return lines


def allocators_block(report, chart_names):
    return (["Medians over the runs; *÷ glibc* divides by the glibc row of the same workload.", ""]
            + time_table(report)
            + ["", f"![Wall time ÷ glibc](charts/{chart_names['time']})", "",
               f"![Peak RSS ÷ glibc](charts/{chart_names['rss']})", "",
               "Summary of the wall times:", ""]
            + summary(report))


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
            "rss_frees": result["rss_after_frees_bytes"] / MIB,
            "rss_after": result["rss_after_bytes"] / MIB,
            "after_ratio": result["rss_after_bytes"] / live_after,
            "growth_ratio": (result["rss_after_bytes"] - result["rss_start_bytes"]) / live_after,
        })
    return workload, rows


def fragmentation_block(report, chart_names):
    workload, rows = fragmentation_rows(report)
    cells = int(next(iter(configurations(workload).values()))["results"]["cells"])
    return ([f"{cells:,} cells in phase 1 (medians of the runs; MiB = 2^20 bytes).", ""]
            + table([("configuration", "l"), ("live peak MiB", "r"), ("peak RSS MiB", "r"),
                     ("peak RSS ÷ live peak", "r"), ("RSS after the frees MiB", "r"),
                     ("live after MiB", "r"), ("RSS after MiB", "r"),
                     ("RSS after ÷ live after", "r"),
                     ("(RSS after − RSS at start) ÷ live after", "r")],
                    [[row["label"], number(row["live_peak"], 1), number(row["peak_rss"], 1),
                      number(row["peak_ratio"]), number(row["rss_frees"], 1),
                      number(row["live_after"], 1), number(row["rss_after"], 1),
                      number(row["after_ratio"]), number(row["growth_ratio"])] for row in rows])
            + ["", f"![Fragmentation](charts/{chart_names['fragmentation']})"])


def workers_block(report):
    one = next(w for w in report["workloads"] if w["name"] == "workers1")
    two = next(w for w in report["workloads"] if w["name"] == "workers2")
    rows = []
    for label, single in configurations(one).items():
        double = configurations(two).get(label)
        if double:
            rows.append([label, number(single["wall"], 3), number(double["wall"], 3),
                         number(double["cpu"], 3), number(2 * single["wall"] / double["wall"])])
    return table([("configuration", "l"), ("×1 wall s", "r"), ("×2 wall s", "r"),
                  ("×2 user+sys s", "r"), ("throughput scaling 2·t₁/t₂ (ideal 2)", "r")],
                 rows)


def layer_grounds_block(report):
    grounds = [g for g in ("glibc", "jemalloc", "mimalloc") if report["layerbench"].get(g)]
    if not grounds:
        raise KeyError("layerbench")
    rows = {}
    for ground in grounds:
        for row in report["layerbench"][ground]:
            key = (row["size"], row["layer"], row["operation"])
            rows.setdefault(key, {})[ground] = row["ns"]
    return table([("size", "r"), ("layer (explicit mode) or call", "l"), ("operation", "l")]
                 + [(f"ns, ground {g}", "r") for g in grounds],
                 [[size, layer, operation] + [number(values.get(g)) for g in grounds]
                  for (size, layer, operation), values in
                  sorted(rows.items(), key=lambda item: item[0][0])])


def allocator_charts(report):
    """{chart name: SVG}: wall time and peak RSS ÷ glibc per workload, fragmentation."""
    series_order = []
    time_groups, rss_groups = [], []
    for workload, present, base in against_glibc(report):
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
    _, rows = fragmentation_rows(report)
    return {
        "time": bar_chart(time_groups, series_order, "Wall time ÷ glibc (median of runs; "
                          "left of 1 is faster)", logarithmic=True, reference=1.0),
        "rss": bar_chart(rss_groups, series_order, "Peak RSS ÷ glibc (median of runs; "
                         "left of 1 is smaller)", logarithmic=True, reference=1.0),
        "fragmentation": bar_chart(
            [(row["label"], [("peak RSS ÷ live peak", row["peak_ratio"]),
                             ("RSS after ÷ live after", row["after_ratio"])]) for row in rows],
            ["peak RSS ÷ live peak", "RSS after ÷ live after"],
            "Fragmentation: resident set over live bytes (1 = no overhead)", logarithmic=False,
            reference=1.0),
    }
