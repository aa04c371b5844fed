"""Hand-written SVG bar charts for Benchmarks/Report/report.py (no plotting library)."""
import math
from xml.sax.saxutils import escape

COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#9c755f"]


def _ticks(low, high, logarithmic):
    if logarithmic:
        first, last = math.floor(math.log2(low)), math.ceil(math.log2(high))
        return [2.0 ** exponent for exponent in range(first, last + 1)]
    step = 10 ** math.floor(math.log10(max(high, 1e-9)))
    for multiple in (1, 2, 5, 10):
        if high / (step * multiple) <= 8:
            step *= multiple
            break
    count = math.ceil(high / step)
    return [step * index for index in range(count + 1)]


def _label(value):
    if value == 0 or value >= 1:
        return f"{value:g}"
    return f"1/{1 / value:g}" if abs(1 / value - round(1 / value)) < 1e-9 else f"{value:.2g}"


def bar_chart(groups, series, title, logarithmic, reference=None):
    """Horizontal grouped bars: `groups` is [(group label, [(series label, value)])]."""
    values = [value for _, bars in groups for _, value in bars if value and value > 0]
    if not values:
        values = [1.0]
    if logarithmic:
        low, high = min(values + [reference or 1]) * 0.9, max(values + [reference or 1]) * 1.1
    else:
        low, high = 0.0, max(values + [reference or 0]) * 1.05
    ticks = _ticks(low, high, logarithmic)
    low, high = (ticks[0], ticks[-1])

    def x(value):
        value = max(value, low)
        fraction = ((math.log2(value) - math.log2(low)) / (math.log2(high) - math.log2(low))
                    if logarithmic else (value - low) / (high - low))
        return left + fraction * plot_width

    # Room on the left for the longest group label (about 6.6 px a character at 12 px).
    left = max(180, 16 + round(6.6 * max((len(group) for group, _ in groups), default=0)))
    plot_width, bar, gap, group_gap = 500, 12, 2, 14
    legend_height = 22 * math.ceil(len(series) / 3)
    top = 40 + legend_height
    height = top + sum(len(bars) * (bar + gap) + group_gap for _, bars in groups) + 40
    width = left + plot_width + 80
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" '
             f'font-weight="bold">{escape(title)}</text>']
    for index, name in enumerate(series):
        column, row = index % 3, index // 3
        legend_x, legend_y = left + column * 180, 34 + row * 22
        parts.append(f'<rect x="{legend_x}" y="{legend_y}" width="12" height="12" '
                     f'fill="{COLORS[index % len(COLORS)]}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="{legend_y + 10}">{escape(name)}</text>')
    bottom = height - 40
    for tick in ticks:
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{bottom}" '
                     f'stroke="#ddd"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{bottom + 16}" text-anchor="middle">'
                     f'{_label(tick)}</text>')
    if reference is not None:
        parts.append(f'<line x1="{x(reference):.1f}" y1="{top - 4}" x2="{x(reference):.1f}" '
                     f'y2="{bottom}" stroke="#333" stroke-dasharray="4 3"/>')
    y = top
    for group, bars in groups:
        group_height = len(bars) * (bar + gap)
        parts.append(f'<text x="{left - 8}" y="{y + group_height / 2 + 4:.1f}" text-anchor="end">'
                     f'{escape(group)}</text>')
        for name, value in bars:
            color = COLORS[series.index(name) % len(COLORS)]
            end = x(value)
            # Logarithmic bars grow from the reference (left: below it, right: above it).
            start = x(reference) if logarithmic and reference is not None else x(low)
            parts.append(f'<rect x="{min(start, end):.1f}" y="{y}" width="{abs(end - start):.1f}" '
                         f'height="{bar}" fill="{color}"><title>{escape(group)}, {escape(name)}: '
                         f'{value:.3f}</title></rect>')
            parts.append(f'<text x="{max(start, end) + 4:.1f}" y="{y + bar - 2}" font-size="10">'
                         f'{value:.2f}</text>')
            y += bar + gap
        y += group_gap
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
