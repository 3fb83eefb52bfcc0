"""What the Upload page says about a checked file, in plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from liftoff.formatting import (
    RECORD_NOUNS,
    count,
    format_date,
    format_moment,
    format_value,
    listed,
    shared_digits,
    shown_unit,
)
from liftoff.ingest import reader
from liftoff.ingest.columns import KIND_LABELS
from liftoff.ingest.prepared import Prepared
from liftoff.ingest.problems import ImportRejected
from liftoff.people import views as people_views

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class Description:
    title: str
    detail: str
    mapping: pd.DataFrame
    problems: pd.DataFrame
    problems_sentence: str


def problems_table(items) -> pd.DataFrame:
    """Problems as the Upload page lists them: row, column, value, problem, fix."""
    return pd.DataFrame(
        [
            {
                # A problem with the whole file or a column has no row: a dash, never "None".
                "Row": "—" if pr.row is None else f"{pr.row:,}",
                "Column": pr.column or "",
                "Value": pr.value or "",
                "Problem": pr.message,
                "Fix": pr.fix,
            }
            for pr in items
        ],
        columns=["Row", "Column", "Value", "Problem", "Fix"],
    )


_FIELD = re.compile(r"[a-z][a-z0-9_]*")
# Fields stored under another name, so that "How the columns were read" heads a field as the
# preview heads its column.
_STORED_AS = {
    "concerns": {"category": "failure_category", "key": "external_key"},
    "loadtest": {"rps": "throughput_rps", "error_rate": "failure_ratio"},
}
_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with a byte-order mark)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1252": "Windows-1252 (Western European)",
}


def describe(p: Prepared) -> Description:
    """Title, how the file was read, its column mapping and its problems as tables."""
    label = KIND_LABELS.get(p.kind, p.kind)
    read = f"{p.rows_read:,} {'row' if p.rows_read == 1 else 'rows'} read"
    if p.ok:
        title = f"{label}: {read}, {_stored(p)} ready to import"
    else:
        title = f"{label}: {read}, not ready to import"
    if p.encoding == "xlsx":
        detail = f"Excel workbook, sheet {p.sheet!r}."
    else:
        encoding = _ENCODING_NAMES.get(p.encoding or "", p.encoding)
        detail = f"Text read as {encoding}, {_DELIMITER_NAMES.get(p.delimiter or ',', repr(p.delimiter))}-separated."
    # A field by the header the preview gives it ("Recorded", not recorded_at).
    # Several fields read from one group of columns ("p50_ms / p95_ms / p99_ms") each so too.
    mapping = pd.DataFrame(
        [(c, " / ".join(_read_as(p.kind, part) for part in r.split(" / "))) for c, r in p.mapping],
        columns=["Column in the file", "Read as"],
    )
    problems = problems_table(p.problems.items)
    n = p.problems.total
    sentence = (
        f"{n} {'problem' if n == 1 else 'problems'} found; nothing will be imported until "
        f"{'it is' if n == 1 else 'they are'} fixed."
    )
    if n > len(p.problems.items):
        sentence += f" The first {len(p.problems.items)} are listed."
    return Description(title, detail, mapping, problems, sentence)


def _stored(p: Prepared) -> str:
    """What will be stored, in words that do not contradict the rows read: a wide metrics file
    gives one value per row and metric column ("4 values" from 2 rows), never "4 of 2 rows"."""
    if p.rows_accepted == p.rows_read:
        return f"{p.rows_accepted:,}"
    # A Locust summary's rows are its requests, and only the Aggregated one is stored.
    return count(p.rows_accepted, *RECORD_NOUNS.get(p.kind, ("value", None)))


def describe_success(p: Prepared, batch_id: int) -> str:
    # "Locust results", not "locust results (_stats.csv or _stats_history.csv)": the file
    # patterns help choose a kind, not read a sentence; names keep their capitals.
    label = KIND_LABELS.get(p.kind, p.kind).split(" (")[0]
    if not label.startswith(("Locust", "MLflow")):
        label = label.lower()
    if p.rows_accepted == p.rows_read:
        what = count(p.rows_accepted, "row")
    else:
        what = f"{_stored(p)} ({count(p.rows_read, 'row')})"
    made = [f"initiative {n}" for n in p.new_initiatives] + [
        f"iteration {i} of {n}" for n, i in sorted({*p.new_iterations, *p.next_iterations})
    ]
    # What it created, as the check said it would (a new iteration becomes the latest).
    created = f" It created {listed(made)}." if made else ""
    if p.asks_replace and p.options.replace_load_tests:
        # Said where the eye is after the import, as the check said it before.
        created += " It replaced the earlier load-test results of the iterations it tests."
    return f"Imported {what} of {label} from {p.file_name} as batch #{batch_id}.{created}"


def screen_for(p: Prepared) -> str | None:
    """The initiative whose screens show the new data, when there is exactly one."""
    names: set[str] = set()
    for parts in p.frames.values():
        for part in parts:
            if "initiative" in part:
                names.update(part["initiative"].dropna().unique())
    return names.pop() if len(names) == 1 else None


def workbook_sheets(data: bytes) -> list[str]:
    """A workbook's sheet names, read without openpyxl (which would load all its text first);
    none for a workbook that cannot be read (reading it says why)."""
    try:
        return reader.inspect_workbook(data, "workbook")
    except ImportRejected:
        return []


@dataclass(frozen=True)
class Preview:
    frame: pd.DataFrame  # the first rows as stored, the columns they fill
    widths: dict[str, int]  # each column's width: together the page's, where they can be
    empty_note: str | None  # the columns these rows leave empty, in words


def _as_the_screens_write_it(p: Prepared, frame: pd.DataFrame) -> pd.DataFrame:
    """The stored rows as the screens will show them: a metric by its name ("Churn model AUC",
    not "churn_auc") and its value with its unit ("91.2%", not 0.912), an iteration as "7"
    (not "7.0"). Days and moments are written by `_moments`, as p.preview is asked to."""
    frame = frame.copy()
    if "metric" in frame.columns and p.metric_meta:
        if "value" in frame.columns:

            def written(key, value):
                if value is None or value == "" or pd.isna(value):
                    return ""
                return format_value(float(value), shown_unit(p.metric_meta.get(key)))

            frame["value"] = [
                written(k, v) for k, v in zip(frame["metric"], frame["value"], strict=True)
            ]
        frame["metric"] = frame["metric"].map(
            lambda k: p.metric_meta.get(k, {}).get("display_name", k)
        )
    # Choices in the words of the screens ("Real-world data gaps", not data_gaps).
    for column, words in _CHOICE_WORDS.get(p.kind, {}).items():
        if column in frame.columns:
            frame[column] = frame[column].map(
                lambda v, w=words: w(v) if v not in ("", None) else ""
            )
    if "iteration" in frame.columns:
        frame["iteration"] = frame["iteration"].map(
            lambda v: str(int(float(v))) if str(v).strip() not in ("", "nan", "None") else ""
        )
    # Measurements in the unit their header names, rounded as the screens round them ("86.1"
    # requests/s, not 86.10061), with one count of decimals a column as the screens' tables.
    for column in frame.columns:
        if str(column).endswith(("_ms", "_rps")) or column == "users":
            numbers = pd.to_numeric(frame[column], errors="coerce")
            digits = shared_digits(numbers.dropna().tolist(), None)
            frame[column] = [
                "" if pd.isna(n) else format_value(float(n), None, digits) for n in numbers
            ]
    return frame


_CHOICE_WORDS = {
    # A share of failed requests as the Scalability screen writes it ("0.2%", not 0.002).
    "loadtest": {"failure_ratio": lambda v: format_value(float(v), "ratio")},
    "locust": {"failure_ratio": lambda v: format_value(float(v), "ratio")},
    "concerns": {
        "failure_category": people_views.category_label,
        "status": lambda v: people_views.CONCERN_STATUS_LABELS.get(v, v),
        "severity": lambda v: str(v).capitalize(),
    },
    "feedback": {
        "status": lambda v: people_views.FEEDBACK_STATUS_LABELS.get(v, v),
        "source": lambda v: people_views.SOURCE_LABELS.get(v, v),
    },
}


def _moments(column: pd.Series) -> pd.Series:
    """A date column as every table writes it: "14 Sep 2026" when each is a whole day, else
    "27 Jul 2026, 09:00"; empty where there is none."""
    filled = column.dropna()
    write = format_date if (filled == filled.dt.normalize()).all() else format_moment
    return column.map(lambda v: write(v) if pd.notna(v) else "").astype(object)


# Stored field names in words, for the preview's headers; any other reads as its words.
_HEADINGS = {
    "recorded_at": "Recorded",
    "received_at": "Received",
    "observed_at": "Observed",
    "raised_at": "Raised",
    "throughput_rps": "Throughput (requests/s)",
    "peak_rps": "Peak (requests/s)",
    "failure_ratio": "Failures",
    "error_rate": "Failures",
    "evidence_note": "Evidence",
    "manual_status": "Status set by hand",
    "action_taken": "Action taken",
    "source_file": "Source file",
    # As the concern register heads them.
    "external_key": "Key",
    "failure_category": "Failure category",
    "stakeholder_group": "Group",
    "resolved_at": "Resolved",
}


def _read_as(kind: str, field: str) -> str:
    """A stored field as the mapping table writes it; a description in words stays as it is."""
    if not _FIELD.fullmatch(field):
        return field
    return heading(_STORED_AS.get(kind, {}).get(field, field))


def heading(name: str) -> str:
    """A stored field's name as a column header: "Recorded" for recorded_at, "p95 (ms)" for
    p95_ms, "Candidate" for candidate."""
    if name in _HEADINGS:
        return _HEADINGS[name]
    words = str(name).split("_")
    unit = {"ms": " (ms)", "rps": " (requests/s)", "pct": " (%)"}.get(words[-1], "")
    if unit and len(words) > 1:
        words = words[:-1]
    text = " ".join(words)
    if not re.match(r"p\d", text):  # "p95 (ms)" keeps its small p
        text = text[:1].upper() + text[1:]
    return text + unit


def preview(p: Prepared) -> Preview:
    """The Upload page's preview: the first rows as the screens will show them, under headers
    in words, without the columns none of them fills (named under the table instead), at
    widths that show the other columns side by side (an 18-column risk register needed a
    sideways scroll)."""
    from liftoff import tables

    frame = _as_the_screens_write_it(p, p.preview(moments=_moments))
    frame = frame.rename(columns=heading)
    empty = [c for c in frame.columns if frame[c].astype(str).str.strip().eq("").all()]
    shown = frame.drop(columns=empty) if len(empty) < len(frame.columns) else frame
    note = (
        f"Left empty in these rows, so not shown: {', '.join(map(str, empty))}." if empty else None
    )
    return Preview(shown, tables.fitted_widths(shown), note)
