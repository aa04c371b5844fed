"""Formatting helpers shared by report.py's table modules."""
import os
from statistics import median

MIB = 1024 * 1024


def number(value, digits=2):
    return "–" if value is None else f"{value:.{digits}f}"


def signed(value, digits=2):
    """`value` with a leading + or − (a typographic minus)."""
    return "–" if value is None else f"{value:+.{digits}f}".replace("-", "−")


def ratio(value, base):
    return None if value is None or not base else value / base


def configurations(entry):
    """The configurations of a workload entry that produced a result, by label."""
    return {c["label"]: c for c in entry["configurations"] if c.get("runs")}


def per_round_ratio(configuration, baseline):
    """The median over rounds of one configuration's wall time ÷ the baseline's in the same
    round (rounds where either has no good run are left out); None without a common round."""
    base = {sample["round"]: sample["wall"] for sample in baseline.get("samples", [])
            if "round" in sample}
    ratios = [sample["wall"] / base[sample["round"]] for sample in configuration["samples"]
              if sample.get("round") in base]
    return median(ratios) if ratios else None


def table(columns, rows):
    """A Markdown table: `columns` is [(title, alignment)] with alignment "l" or "r"."""
    lines = ["| " + " | ".join(title for title, _ in columns) + " |",
             "|" + "|".join(":--" if align == "l" else "--:" for _, align in columns) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def ns_with_fastest(row):
    """A median in ns with the fastest round in brackets, as the benchmark programs print it."""
    return f"{number(row['ns'])} [{number(row['fastest_ns'])}]"


def program(command):
    """A command line with the build directory left out: `binarytree 21 --mode malloc`."""
    path, _, arguments = command.partition(" ")
    return " ".join(filter(None, [os.path.basename(path), arguments]))
