"""PNG plots of benchmark series (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def line_plot(
    path: Path,
    title: str,
    xlabel: str,
    panels: Sequence[tuple[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]]],
    *,
    logx: bool = False,
) -> None:
    """One panel per (y label, {series name: (xs, ys)}), side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (ylabel, series) in zip(axes[0], panels, strict=True):
        for name, (xs, ys) in series.items():
            ax.plot(xs, ys, marker="o", label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if logx:
            ax.set_xscale("log", base=2)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def bar_plot(path: Path, title: str, xlabel: str, bars: Mapping[str, float], *, log: bool = False) -> None:
    """Horizontal bars, one per label, largest value at the top when sorted by the caller."""
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(bars) + 1.5))
    labels = list(bars)[::-1]
    ax.barh(labels, [bars[k] for k in labels], color="#4c72b0")
    for y, label in enumerate(labels):
        ax.annotate(f" {bars[label]:,.0f}", (bars[label], y), va="center", fontsize=9)
    ax.set_xlabel(xlabel)
    if log:
        ax.set_xscale("log")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
