"""The steering pack as files: one self-contained HTML page, or a ZIP of CSVs."""

from __future__ import annotations

import html
import io
import zipfile

import pandas as pd

from liftoff.export import safe_csv
from liftoff.formatting import STAGE_LABELS
from liftoff.meeting import pack as steering_pack


def to_csv_zip(pack: dict) -> bytes:
    """A ZIP of CSVs: one per slide table, the metrics across iterations, and the sentences."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        sentences = pd.DataFrame(
            [
                {"Slide": s["title"], "Sentence": s["sentence"], "Missing": s["missing"] or ""}
                for s in pack["slides"]
            ]
        )
        z.writestr("00-summary.csv", safe_csv(sentences))
        for k, s in enumerate(pack["slides"], start=1):
            table = s.get("data") or s["table"]  # packs frozen before slides carried data
            if table:
                z.writestr(f"{k:02d}-{s['key']}.csv", safe_csv(frame_of(table)))
        if pack.get("metrics"):
            z.writestr("metrics-across-iterations.csv", safe_csv(frame_of(pack["metrics"])))
    return buf.getvalue()


def _script_json(text: str) -> str:
    """JSON safe inside a <script> element: no `</script>`, no HTML comment openers."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def frame_of(table: dict) -> pd.DataFrame:
    """A pack table ({"columns": [...], "rows": [[...], ...]}) as a DataFrame."""
    # object columns: whole numbers stay whole (an id column with a gap is not 2.0, 3.0, …)
    return pd.DataFrame(table["rows"], columns=table["columns"], dtype=object)


# Headers of the pack's tables shortened on the screen, as the iterations screen heads them.
_SHORT_HEADERS = {"Change from previous iteration": "Change", "Import batch": "Batch"}


def screen_table(table: dict) -> tuple[pd.DataFrame, dict[str, int]]:
    """A slide's table for the screen's normal view, and column widths that keep every column
    in view at 1440x900 (tables.fitted_widths): the criteria's evidence note was off to the
    right."""
    from liftoff import tables

    frame = frame_of(table).rename(columns=_SHORT_HEADERS)
    return frame, tables.fitted_widths(frame)


def to_html(pack: dict) -> str:
    """A self-contained HTML file of the pack: plotly inlined once, no network needed, user text
    escaped, one printed page per slide."""
    from plotly.offline import get_plotlyjs

    e = html.escape
    ini, it = pack["initiative"], pack["iteration"]
    stamp = steering_pack.as_of(pack)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(ini['name'])} · steering pack · iteration {it['number']}</title>",
        f"<style>{_CSS}</style>",
        f"<script>{get_plotlyjs()}</script>",
        "</head><body>",
        f"<header><h1>{e(ini['name'])}: steering pack</h1>",
        f"<p>{e(it['title'])} · {e(STAGE_LABELS.get(ini['stage'], ini['stage']))}"
        f" · built {e(pack['built_at'].replace('T', ' '))}</p>",
    ]
    if stamp:
        parts.append(f'<p class="asof">{e(stamp)}</p>')
    parts.append("</header>")
    total = len(pack["slides"])
    for k, s in enumerate(pack["slides"], start=1):
        parts.append(f'<section id="slide-{k}" data-slide="{e(s["key"])}">')
        parts.append(f'<h2>{e(s["title"])}<span class="n">{k} of {total}</span></h2>')
        parts.append(f'<p class="sentence">{e(s["sentence"])}</p>')
        if s["missing"]:
            parts.append(f'<p class="missing">{e(s["missing"])}</p>')
        if s["chart"]:
            parts.append(f'<div class="chart" id="chart-{k}"></div>')
            parts.append(
                "<script>(function(){var f="
                + _script_json(s["chart"])
                + f';Plotly.newPlot("chart-{k}",f.data,f.layout,{{displayModeBar:false,responsive:true}});}})();</script>'
            )
        if s["table"]:
            head = "".join(f"<th>{e(str(c))}</th>" for c in s["table"]["columns"])
            body = "".join(
                "<tr>"
                + "".join(f"<td>{e('' if v is None else str(v))}</td>" for v in row)
                + "</tr>"
                for row in s["table"]["rows"]
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        parts.append("</section>")
    parts.append(
        "<footer>Made with Liftoff. Figures as stored when the pack was built; "
        "every number traces to an import batch in Liftoff's import history.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def values_of(pack: dict) -> dict:
    """Sentences and table cells of a pack, to compare two packs' figures."""
    return {
        s["key"]: {"sentence": s["sentence"], "table": s["table"], "chart": s["chart"]}
        for s in pack["slides"]
    }


_CSS = """
body { font-family: "Source Sans Pro", "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1f;
       margin: 0; background: #fafafa; }
header { padding: 24px 48px 8px; }
header h1 { margin: 0 0 4px; font-size: 30px; }
header p { margin: 0; color: #555; }
.asof { display: inline-block; margin-top: 8px; padding: 4px 10px; border-radius: 6px;
        background: #fff3cd; color: #6b4e00; font-weight: 600; }
section { background: #fff; margin: 16px 48px; padding: 24px 32px; border-radius: 10px;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
section h2 { margin: 0 0 8px; font-size: 24px; }
section .n { color: #888; font-weight: 400; font-size: 16px; margin-left: 8px; }
section p.sentence { font-size: 18px; line-height: 1.45; margin: 0 0 16px; }
section p.missing { color: #8a6d00; font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
.chart { width: 100%; }
footer { color: #888; font-size: 12px; margin: 16px 48px 32px; }
@media print {
  body { background: #fff; }
  section { box-shadow: none; margin: 0; page-break-after: always; break-after: page; }
  header { padding: 0 0 8px; }
}
"""
