"""Hostile files for the importer, written on demand (none is committed: some are large).

    .venv/bin/python tests/hostile_files.py FOLDER

writes each file and its expected outcome beside it (NAME.expect.json, as in tests/data/ingest):
`rejected` with fragments of the message, or `imported` with the rows accepted. Each is one way
a file broke the importer (issue 16): a traceback, minutes of a server core, gigabytes of memory.
tests/test_hostile_files.py runs them by glob; benchmarks/hostile_files.py prints time and
peak memory for each.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

METRICS_HEADER = "initiative,iteration,metric,value\n"
# Rows of a workbook just past the most a spreadsheet holds (1,048,576).
WORKBOOK_ROWS = 1_100_000


def _expect(folder: Path, name: str, outcome: str, **more) -> None:
    (folder / (Path(name).stem + ".expect.json")).write_text(
        json.dumps({"outcome": outcome, **more}, indent=2)
    )


def _cell(ref: str, value) -> str:
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _row(number: int, values) -> str:
    cells = "".join(_cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def _metric_rows(first: int, last: int):
    """Rows `first`..`last` of one repeated metric, as sheet XML (the same bytes a spreadsheet
    writes, built without a cell at a time: a million rows are written in about a second)."""
    for n in range(first, last + 1):
        yield (
            f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>Fraud shield</t></is></c>'
            f'<c r="B{n}"><v>1</v></c><c r="C{n}" t="inlineStr"><is><t>recall</t></is></c>'
            f'<c r="D{n}"><v>0.5</v></c></row>'
        )


def write_workbook(
    path: Path,
    rows=None,
    *,
    dimension: str | None = None,
    sheet_xml_rows=None,
    shared: list[str] | None = None,
) -> None:
    """A minimal .xlsx: one sheet of `rows` (lists of values), or of raw <row> XML from the
    iterable `sheet_xml_rows` (streamed, for sheets too large to hold), with optional shared
    strings and a declared <dimension>."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            + (
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                if shared is not None
                else ""
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Metrics" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            + (
                '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                if shared is not None
                else ""
            )
            + "</Relationships>",
        )
        if shared is not None:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
                f.write(
                    b'<?xml version="1.0" encoding="UTF-8"?>'
                    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                )
                for text in shared:
                    f.write(b"<si><t>")
                    for i in range(0, len(text), 1 << 20):
                        f.write(escape(text[i : i + (1 << 20)]).encode())
                    f.write(b"</t></si>")
                f.write(b"</sst>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            if dimension:
                f.write(f'<dimension ref="{dimension}"/>'.encode())
            f.write(b"<sheetData>")
            if rows is not None:
                for n, values in enumerate(rows, start=1):
                    f.write(_row(n, values).encode())
            if sheet_xml_rows is not None:
                for xml in sheet_xml_rows:
                    f.write(xml.encode())
            f.write(b"</sheetData></worksheet>")


def build(folder: Path) -> list[Path]:
    """Write every hostile file and its expectation into `folder`; returns the files."""
    folder.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []

    def text(name: str, content: str | bytes, outcome: str, **more) -> None:
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        _expect(folder, name, outcome, **more)
        made.append(path)

    def book(name: str, outcome: str, more: dict, **kwargs) -> None:
        path = folder / name
        write_workbook(path, **kwargs)
        _expect(folder, name, outcome, **more)
        made.append(path)

    good = [["initiative", "iteration", "metric", "value"], ["Fraud shield", 1, "recall", 0.5]]
    create = ["--create"]

    # --- bounds --------------------------------------------------------------------------
    # 4.8 KB that declared every cell of a sheet: minutes of a core, kept after the tab closed.
    book(
        "dimension_whole_sheet.xlsx",
        "imported",
        {"rows_accepted": 2, "args": create},
        rows=[*good, ["Fraud shield", 1, "precision", 0.75]],
        dimension="A1:XFD1048576",
    )
    # The same declared size with the sheet's last row present (a formatted row, as a
    # spreadsheet keeps it): openpyxl padded a million rows to 16,384 cells each.
    book(
        "dimension_whole_sheet_last_row.xlsx",
        "imported",
        {"rows_accepted": 2, "args": create},
        sheet_xml_rows=[
            _row(1, good[0]),
            _row(2, good[1]),
            _row(3, ["Fraud shield", 1, "precision", 0.75]),
            '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t></t></is></c></row>',
        ],
        dimension="A1:XFD1048576",
    )
    # 10 million identical rows took 228 s and 1.2 GB: past a spreadsheet's rows, at once.
    book(
        "rows_past_a_spreadsheet.xlsx",
        "rejected",
        {"errors": ["more than 1,048,576 rows"], "args": create},
        sheet_xml_rows=(
            x for part in ([_row(1, good[0])], _metric_rows(2, WORKBOOK_ROWS)) for x in part
        ),
    )
    # A row numbered past any spreadsheet: openpyxl yields every missing row before it.
    book(
        "row_number_far_away.xlsx",
        "rejected",
        {"errors": ["more than 1,048,576 rows"], "args": create},
        sheet_xml_rows=[
            _row(1, good[0]),
            '<row r="99999999"><c r="A99999999"><v>1</v></c></row>',
        ],
    )
    # One cell in the sheet's last column: openpyxl pads that row to 16,384 cells.
    book(
        "cell_in_the_last_column.xlsx",
        "rejected",
        {"errors": ["16,384 columns"], "args": create},
        sheet_xml_rows=[_row(1, good[0]), '<row r="2"><c r="XFD2"><v>1</v></c></row>'],
    )
    # One 400 MB shared string peaked at 2.4 GB, and its 419 MB message broke the page.
    book(
        "one_huge_cell.xlsx",
        "rejected",
        {"errors": ["A cell holds"], "args": create},
        rows=[good[0], ["Fraud shield", 1, "recall", 0.5]],
        shared=["x" * (50 * 1024 * 1024)],
    )
    path = folder / "truncated.xlsx"
    write_workbook(path, rows=good)
    path.write_bytes(path.read_bytes()[:-200])
    _expect(folder, path.name, "rejected", errors=["truncated"])
    made.append(path)
    with zipfile.ZipFile(folder / "archive_of_csv.xlsx", "w") as z:
        z.writestr("metrics.csv", METRICS_HEADER + "Fraud shield,1,recall,0.5\n")
    _expect(folder, "archive_of_csv.xlsx", "rejected", errors=["ZIP archive"])
    made.append(folder / "archive_of_csv.xlsx")
    # A 2 GB sparse file used 2.2 GB and 11.5 s before being refused.
    path = folder / "sparse_2gb.csv"
    with open(path, "wb") as f:
        f.write(METRICS_HEADER.encode())
        f.truncate(2 * 1024**3)
    _expect(folder, path.name, "rejected", errors=["Liftoff imports files up to 200 MB"])
    made.append(path)
    # Fields over the csv module's 128 KB in the first lines made the delimiter sniffer raise.
    text(
        "header_100000_columns.csv",
        ",".join(f"m{i}" for i in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n",
        "rejected",
        errors=["The first line is longer than 256 KB"],
    )
    text(
        "header_5000_columns.csv",
        "iteration," + ",".join(f"m{i}" for i in range(5_000)) + "\n1" + ",1" * 5_000 + "\n",
        "rejected",
        errors=["5,001 columns", "at most 1,000 columns"],
        args=["--initiative", "Fraud shield", *create],
    )
    text(
        "one_50mb_line.csv",
        METRICS_HEADER + "Fraud shield,1,recall," + "7" * (50 * 1024 * 1024) + "\n",
        "rejected",
        errors=["A cell holds 52,428,800 characters"],
        args=create,
    )
    text(
        "long_comment.csv",
        "initiative,text,rating\n"
        + '"Fraud shield","'
        + "The alert came late. " * 10_000
        + '",4\nFraud shield,Fine,5\n',
        "imported",
        rows_accepted=2,
        args=create,
    )
    text(
        "duplicate_columns.csv",
        "initiative,iteration,metric,value,Value\nFraud shield,1,recall,0.5,0.6\n",
        "rejected",
        errors=["Two columns have the same name 'Value' (columns 4 and 5)"],
        args=create,
    )

    # --- numbers -------------------------------------------------------------------------
    for name, value in (("iteration_inf", "inf"), ("iteration_huge", "99999999999999999999")):
        text(
            f"{name}.csv",
            METRICS_HEADER + f"Fraud shield,{value},recall,0.5\n",
            "rejected",
            errors=["column 'iteration'"],
            args=create,
        )
    text(
        "loadtest_users_1e30.csv",
        "initiative,iteration,users,throughput_rps,p95_ms\nFraud shield,1,1e30,10,100\n",
        "rejected",
        errors=["The user count cannot be above 2,147,483,647"],
        args=create,
    )
    for word in ("NaN", "inf", "Infinity", "-Infinity", "1e309"):
        text(
            f"value_{word.lstrip('-').lower()}{'_negative' if word.startswith('-') else ''}.csv",
            METRICS_HEADER + f"Fraud shield,1,requests,{word}\nFraud shield,1,recall,0.5\n",
            "rejected",
            errors=["row 2 column 'value'", "is not a number"],
            args=create,
        )
    text(
        "traffic_1e308.csv",
        "initiative,date,peak_rps\nFraud shield,2026-01-05,1e308\n"
        "Fraud shield,2026-01-12,1e308\nFraud shield,2026-01-19,3\n",
        "imported",
        rows_accepted=3,
        args=create,
    )

    # --- text ----------------------------------------------------------------------------
    text(
        "mixed_encodings.csv",
        (METRICS_HEADER + "Fraud shield,1,Précision,0.5\n").encode()
        + "Fraud shield,1,Précision,0.6\n".encode("cp1252"),
        "rejected",
        errors=["mixes text encodings", "row 3"],
        args=create,
    )
    # --- names ---------------------------------------------------------------------------
    # Each of these created an initiative that looked identical to "Churn early-warning".
    churn = "Churn early-warning"
    text(
        "initiative_cyrillic_es.csv",
        METRICS_HEADER + "\u0421hurn early-warning,1,churn_auc,0.8\n",
        "rejected",
        errors=["Did you mean 'Churn early-warning'?", "Cyrillic capital letter es"],
        args=create,
    )
    for name, written in (
        ("initiative_zero_width_space", churn.replace("-", "\u200b-")),
        ("initiative_right_to_left_override", churn + "\u202e"),
        ("initiative_bom_mid_file", "\ufeff" + churn),
    ):
        text(
            f"{name}.csv",
            METRICS_HEADER + f"{churn},1,churn_auc,0.8\n{written},1,churn_auc,0.81\n",
            "imported",
            rows_accepted=2,
            warnings=[],
            initiatives_created=0,
        )
    text(
        "metric_names_cyrillic_and_japanese.csv",
        METRICS_HEADER + f"{churn},1,Точность,0.8\n{churn},1,Полнота,0.7\n{churn},1,精度,0.9\n",
        "imported",
        rows_accepted=3,
        metric_keys=["точность", "полнота", "精度"],
    )
    text(
        "metric_names_merged.csv",
        METRICS_HEADER + f"{churn},1,Churn model AUC!,0.8\n",
        "imported",
        rows_accepted=1,
        warnings=["'Churn model AUC' and 'Churn model AUC!' are read as one metric, churn_auc"],
    )
    return made


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    for p in build(target):
        print(f"{os.path.getsize(p):>14,} B  {p}")
