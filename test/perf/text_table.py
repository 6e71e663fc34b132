# SPDX-License-Identifier: BSD-3-Clause
"""The plain-text tables the perf tools end with."""


def render(rows):
    """Rows of strings, the first the header: the first column left-aligned,
    the others right-aligned, a rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join([r[0].ljust(widths[0])] +
                               [r[i].rjust(widths[i]) for i in range(1, len(r))]))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines
