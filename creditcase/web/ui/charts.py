"""Charts drawn on the server as inline SVG: no script, no CDN, works offline.

A :class:`Chart` holds categories and one or more series of numbers. It
renders as an SVG with ``role="img"``, a ``<title>`` and a ``<desc>`` (read
out by screen readers), a ``<title>`` on every bar (shown on hover), and the
page renders the same numbers as a data table beside it
(``templates/_macros.html`` ``chart()``). Bars are horizontal with the
category label above each, so long department names stay readable on a
phone; widths are percentages, so the text keeps its size at any width.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

#: Colour-blind safe colours for series, in order.
PALETTE = ("#1f6fb2", "#e08a1e", "#b83227", "#7a8793", "#2e8b57", "#6a4c93")

LABEL_HEIGHT = 17
BAR_HEIGHT = 16
ROW_GAP = 9
#: bars use this share of the width; the rest is room for the value after the longest
BAR_SPAN = 84.0


@dataclass
class Series:
    name: str
    values: list[float]
    color: str = ""


@dataclass
class Chart:
    """A bar chart. ``stacked`` draws the series of a category end to end;
    otherwise every category has one bar per series."""

    id: str
    title: str
    description: str
    categories: list[str]
    series: list[Series] = field(default_factory=list)
    stacked: bool = True
    unit: str = ""
    #: draw values as percentages of 100 (0..100), not against the largest value
    percent: bool = False

    def __post_init__(self) -> None:
        for i, series in enumerate(self.series):
            if not series.color:
                series.color = PALETTE[i % len(PALETTE)]

    @property
    def empty(self) -> bool:
        return not self.categories or not any(v for s in self.series for v in s.values)

    def total(self, index: int) -> float:
        return sum(s.values[index] for s in self.series)

    def _scale(self) -> float:
        if self.percent:
            return 100.0
        if self.stacked:
            largest = max((self.total(i) for i in range(len(self.categories))), default=0)
        else:
            largest = max((v for s in self.series for v in s.values), default=0)
        return float(largest) or 1.0

    def _fmt(self, value: float) -> str:
        text = f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        return f"{text}{self.unit}"

    def svg(self) -> Markup:
        """The chart as an accessible inline SVG element.

        Horizontal positions are percentages of the element's width and the SVG has
        no ``viewBox``, so bars stretch with the page while text keeps its CSS size.
        """
        bars_per_row = 1 if self.stacked else max(1, len(self.series))
        row_height = LABEL_HEIGHT + BAR_HEIGHT * bars_per_row + ROW_GAP
        height = max(row_height * len(self.categories), row_height) + 2
        scale = self._scale()
        title_id, desc_id = f"{self.id}-title", f"{self.id}-desc"
        parts = [
            f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'width="100%" height="{height}" aria-labelledby="{title_id} {desc_id}">',
            f'<title id="{title_id}">{escape(self.title)}</title>',
            f'<desc id="{desc_id}">{escape(self.description)}</desc>',
        ]
        for row, category in enumerate(self.categories):
            top = row * row_height
            parts.append(f'<text x="0" y="{top + 12}" class="chart-label">{escape(category)}</text>')
            x = 0.0
            for index, series in enumerate(self.series):
                value = series.values[row]
                width = BAR_SPAN * value / scale if scale else 0.0
                y = top + LABEL_HEIGHT + (0 if self.stacked else index * BAR_HEIGHT)
                if not self.stacked:
                    x = 0.0
                if value:
                    tip = f"{category} · {series.name}: {self._fmt(value)}"
                    parts.append(
                        f'<rect x="{x:.2f}%" y="{y}" width="{max(width, 0.4):.2f}%" '
                        f'height="{BAR_HEIGHT - 3}" fill="{series.color}">'
                        f'<title>{escape(tip)}</title></rect>')
                if not self.stacked:
                    parts.append(f'<text x="{width:.2f}%" dx="4" y="{y + 11}" class="chart-value">'
                                 f'{escape(self._fmt(value))}</text>')
                x += width
            if self.stacked:
                shown = self.series[0].values[row] if self.percent else self.total(row)
                parts.append(f'<text x="{x:.2f}%" dx="4" y="{top + LABEL_HEIGHT + 11}" '
                             f'class="chart-value">{escape(self._fmt(shown))}</text>')
        parts.append("</svg>")
        return Markup("".join(parts))


__all__ = ["PALETTE", "Chart", "Series"]
