"""Tables and charts of what the runtime and the layers cost (Docs/Benchmarks.md, the sections
before "Allocator comparison"): binarytree region against malloc, the interposer outside
regions, hookbench, layerbench, the specialization check."""
from allocators import CEILING
from charts import bar_chart
from report_tables import (configurations, number, ns_with_fastest, per_round_ratio, program,
                           ratio, signed, table)

SIZES = [16, 64, 256]  # the sizes hookbench measures and layerbench's charted rows


def comparison_block(entry, rounds, baseline, measured, conclusion, others=()):
    """Alternated runs of two commands: medians, fastest runs, and the median of the per-round
    ratios, then a sentence. `baseline` and `measured` are (configuration label, title), and
    so is each of `others` (more rows, for reference); `conclusion(per-round ratio, ratio of
    the fastest runs)` writes the sentence."""
    present = configurations(entry)
    base = present[baseline[0]]
    rows = []
    for label, title in (baseline, measured, *others):
        configuration = present.get(label)
        if configuration is None:
            rows.append([title, "no result", "", "", "", "", "", "", ""])
            continue
        rows.append([
            title, f"`{program(configuration['command'])}`", configuration["runs"],
            number(configuration["wall"], 3), number(configuration.get("fastest"), 3),
            number(configuration["cpu"], 3), number(configuration["maxrss_kib"] / 1024, 1),
            number(ratio(configuration["wall"], base["wall"]), 3),
            number(per_round_ratio(configuration, base), 3)])
    lines = [f"{rounds} rounds, the configurations alternating; wall time measured around each "
             "process.", ""]
    lines += table([("configuration", "l"), ("command", "l"), ("runs", "r"),
                    ("median wall s", "r"), ("fastest s", "r"), ("user+sys s", "r"),
                    ("peak RSS MiB", "r"), (f"÷ {baseline[1]} (medians)", "r"),
                    ("median of per-round ratios", "r")], rows)
    other = present.get(measured[0])
    if other:
        lines += ["", conclusion(per_round_ratio(other, base),
                                 ratio(other.get("fastest"), base.get("fastest")))]
    return lines


def binarytree_block(report):
    """Region mode against malloc mode, from the allocator comparison's binarytree runs, with
    malloc mode over the ceiling (the least any allocator can do) for reference."""
    entry = next(w for w in report["workloads"] if w["name"] == "binarytree")
    present = configurations(entry)
    ceiling = present.get(CEILING)
    bound = per_round_ratio(ceiling, present["glibc"]) if ceiling else None

    def conclusion(value, _):
        sentence = (f"Region mode takes {number(value, 3)}× malloc mode's time (median of the "
                    "per-round ratios). Target, region mode at least 1.5× faster (a ratio of at "
                    f"most 0.667): {verdict(value, 1 / 1.5)}.")
        if bound:
            sentence += (f" Over the ceiling, malloc mode takes {number(bound, 3)}× its time "
                         f"under glibc: an allocator doing next to nothing per block makes the "
                         f"program {number(1 / bound, 2)}× faster than glibc, about the most any "
                         "allocator, a region included, can gain here.")
        return sentence

    return comparison_block(
        entry, report["runs"], ("glibc", "malloc mode"), ("regions: Chunk", "region mode"),
        conclusion, others=[(CEILING, "malloc mode over the ceiling")])


def interposer_block(report):
    entry = report["interposer"]
    return comparison_block(
        entry, entry["rounds"], ("ground", "without Regions"),
        ("malloc", "Regions linked, no region"),
        lambda value, by_fastest: f"Regions linked, no region entered: {percent(value)} (median "
        f"of the per-round ratios; {percent(by_fastest)} between the fastest runs). Target, at "
        f"most +3 %: {verdict(value, 1.03)}.")


def verdict(value, limit):
    """Whether a figure meets a target of at most `limit`."""
    if value is None:
        return "no figure (no round measured both)"
    return "met" if value <= limit else "**not met**"


def percent(value):
    return "–" if value is None else f"{signed((value - 1) * 100, 1)} %"


def hookbench_block(report, chart_names):
    hookbench = report["hookbench"]
    if not hookbench["rows"]:
        raise KeyError("hookbench rows")
    rows = [[row["title"], row["size"], ns_with_fastest(row),
             "" if row["place"] == "glibc" else signed(row["minus_glibc_ns"]),
             number(row["ratio"], 3)] for row in hookbench["rows"]]
    return ([f"`{program(hookbench['command'])}`, ground {hookbench['ground']}: median ns per "
             "malloc+free pair over the rounds, fastest round in brackets.", ""]
            + table([("where", "l"), ("size", "r"), ("ns", "r"), ("− glibc", "r"),
                     ("÷ glibc", "r")], rows)
            + ["", f"![hookbench](charts/{chart_names['hookbench']})"])


def glibc_layer_rows(report):
    """layerbench's rows under glibc, by size (the order layerbench prints its table in)."""
    if not report["layerbench"].get("glibc"):
        raise KeyError("layerbench rows under glibc")
    return sorted(report["layerbench"]["glibc"], key=lambda row: row["size"])


def layers_block(report, chart_names):
    rows = glibc_layer_rows(report)
    lines = [f"`{program(report.get('layerbench_command', 'layerbench --tsv'))}`, ground glibc: "
             "median ns per operation over the rounds, fastest round in brackets.", ""]
    lines += table([("layer", "l"), ("size", "r"), ("operation", "l"), ("ns", "r"),
                    ("÷ malloc+free", "r")],
                   [[row["layer"], row["size"], row["operation"], ns_with_fastest(row),
                     number(row["ratio"], 3)] for row in rows])
    fast_path = [row for row in rows if row["layer"] == "Chunk(65536) { Mmap() }"
                 and row["operation"] == "allocate+free"]
    if fast_path:
        figures = ", ".join(f"{number(row['ratio'], 3)} at {row['size']} B" for row in fast_path)
        lines += ["", f"Chunk's fast path ÷ a malloc+free pair of the same size: {figures}. "
                  f"Target, at most 1/4: {verdict(max(row['ratio'] for row in fast_path), 0.25)}."]
    return lines + ["", f"![Layer pairs ÷ malloc+free](charts/{chart_names['layers']})"]


def specialization_block(report):
    checks = report["specialization"]["checks"]
    lines = table([("loop function in layerbench", "l"), ("verdict", "l")],
                  [[f"`{check['function']}`", check["verdict"] if check["passed"]
                    else f"**{check['verdict'] or 'no result'}**"] for check in checks])
    first = checks[0] if checks else None
    if first and first["output"]:
        lines += ["", f"`Benchmarks/Tools/check-specialization.sh {first['function']}` (addresses "
                  "left out):", "", "```"] + first["output"] + ["```"]
    return lines


def cost_charts(report):
    """{chart name: SVG}: hookbench's ns per pair, layerbench's ratios to malloc+free."""
    charts = {}
    if report.get("hookbench", {}).get("rows"):
        groups = {}
        for row in report["hookbench"]["rows"]:
            groups.setdefault(row["title"], []).append((f"{row['size']} B", row["ns"]))
        charts["hookbench"] = bar_chart(
            list(groups.items()), [f"{size} B" for size in SIZES],
            "hookbench: ns per malloc+free pair (median of rounds)", logarithmic=False)
    if report.get("layerbench", {}).get("glibc"):
        groups = {}
        for row in glibc_layer_rows(report):
            if row["size"] in SIZES and row["layer"] != "malloc/free":
                name = row["layer"] + (" (allocate only)" if row["operation"] != "allocate+free"
                                       else "")
                groups.setdefault(name, []).append((f"{row['size']} B", row["ratio"]))
        charts["layers"] = bar_chart(
            list(groups.items()), [f"{size} B" for size in SIZES],
            "layerbench: ns per operation ÷ a malloc+free pair of the same size (ground glibc)",
            logarithmic=True, reference=1.0)
    return charts
