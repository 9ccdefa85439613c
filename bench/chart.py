"""The benchmark in a picture: each workload's rate for pykeeper, kazoo and
the raw-socket ceiling, from bench/RESULTS.md, as docs/img/bench.png.

    python bench/chart.py        # (make bench runs it after measuring)

Rates only (the RSS rows are sizes); a log scale, since a cached get runs
at millions per second and a lock at hundreds. Needs matplotlib (the bench
extra)."""

from __future__ import annotations

import pathlib
import sys
from typing import Dict, List, Optional

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
CHART = HERE.parent / "docs" / "img" / "bench.png"
SERIES = (("pykeeper /s", "pykeeper", "#3f51b5"), ("kazoo /s", "kazoo", "#ff9800"),
          ("ceiling /s", "raw socket (ceiling)", "#9e9e9e"))


def read_table(text: str) -> List[Dict[str, Optional[float]]]:
    """The results table's rows: workload name and each column's number."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        row: Dict[str, Optional[float]] = {}
        for name, cell in zip(header[1:], cells[1:]):
            row[name] = None if cell in ("-", "") else float(cell.replace(",", ""))
        row["workload"] = cells[0]  # type: ignore[assignment]
        rows.append(row)
    return rows


def main() -> int:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in read_table(RESULTS.read_text())
            if "RSS" not in str(r["workload"]) and r.get("pykeeper /s")]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.2), dpi=110)
    height = 0.27
    for i, (column, label, colour) in enumerate(SERIES):
        ys = [n - (i - 1) * height for n in range(len(rows))]
        values = [r.get(column) or 0 for r in rows]
        ax.barh(ys, values, height, label=label, color=colour)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([str(r["workload"]) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("operations per second (log scale; higher is better)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART)
    print(f"wrote {CHART}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
