"""One self-contained HTML page for a recording's report: every figure embedded (base64 PNG,
no external file or script) and the summary as tables, readable offline and attachable to mail."""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import Any

FIGURE_ID_PREFIX = "figure-"
"""Each figure's ``<figure id="figure-<name>">``, so a test (or a link) can find every one."""
STYLE = (
    "body{font-family:sans-serif;max-width:1200px;margin:1em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px;"
    "text-align:left;font-size:13px;vertical-align:top}th{background:#f3f3f3}"
    "figure{margin:1.5em 0}figcaption{font-size:13px;color:#555}img{max-width:100%}"
)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return f"<code>{html.escape(json.dumps(value, default=str))}</code>"
    return html.escape(str(value))


def summary_tables(summary: dict[str, Any]) -> str:
    """The summary as HTML: scalars in one table, each dict section in its own two-level table."""
    scalars = {k: v for k, v in summary.items() if not isinstance(v, dict)}
    parts = ["<h2>Summary</h2><table>"]
    parts += [f"<tr><th>{html.escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in scalars.items()]
    parts.append("</table>")
    for section, body in summary.items():
        if not isinstance(body, dict):
            continue
        parts.append(f"<h3>{html.escape(section)}</h3>")
        if not body:
            parts.append("<p>(none)</p>")
            continue
        parts.append("<table>")
        for key, value in body.items():
            if isinstance(value, dict):
                inner = "".join(f"{html.escape(str(k))}: {_cell(v)}<br>" for k, v in value.items())
                parts.append(f"<tr><th>{html.escape(str(key))}</th><td>{inner}</td></tr>")
            else:
                parts.append(f"<tr><th>{html.escape(str(key))}</th><td>{_cell(value)}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)


def render_html(title: str, figures: dict[str, tuple[str | os.PathLike, str]], summary: dict[str, Any]) -> str:
    """The page: ``figures`` maps a name to (PNG path, caption); PNGs are read and embedded."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    for name, (png, caption) in figures.items():
        data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
        body.append(f'<figure id="{FIGURE_ID_PREFIX}{html.escape(name)}">'
                    f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(caption)} ({html.escape(Path(png).name)})</figcaption></figure>")
    body.append(summary_tables(summary))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_html(path: str | os.PathLike, title: str, figures: dict[str, tuple[str | os.PathLike, str]],
               summary: dict[str, Any]) -> Path:
    """Write :func:`render_html` to ``path``; return the path."""
    out = Path(path)
    out.write_text(render_html(title, figures, summary), encoding="utf-8")
    return out
