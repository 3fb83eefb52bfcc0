"""From uploaded bytes to a table of strings: encoding, delimiter, quotes, Excel sheets."""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings as warnings_module
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

import pandas as pd

from liftoff.ingest.problems import ImportRejected, Problem, reject

# The largest file Liftoff imports, in MB; .streamlit/config.toml's server.maxUploadSize is the
# same (a test checks), so the Upload page and `liftoff import` accept the same files.
MAX_FILE_MB = 200
CHUNK_ROWS = 50_000
# How much of a text file is kept as text to find its delimiter and header.
SAMPLE_BYTES = 256 * 1024
_DELIMITERS = [",", ";", "\t", "|"]
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
    b"\x1f\x8b": "a gzip archive",
    b"SQLite format 3": "a SQLite database",
}


@dataclass
class Table:
    """A file's header and rows as text, read lazily in chunks of DataFrames."""

    file_name: str
    header: list[str]
    # read(numeric column positions) → chunks of the rows below the header
    read: Callable[..., Iterator[pd.DataFrame]]
    encoding: str
    delimiter: str | None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Spreadsheet row number = a chunk's index + row_offset (the header is row 1 or later).
    row_offset: int = 1


def is_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def decode(data: bytes, file_name: str) -> tuple[str, str, list[str]]:
    """The text encoding of `data`: (sample of the text, Python codec name, warnings).

    UTF-8 with or without BOM, UTF-16 with a BOM or detected from its zero bytes, else
    Windows-1252. The whole file is checked, but only a sample is kept as text.
    """
    warnings: list[str] = []
    for signature, what in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise reject(
                file_name,
                f"This file is {what}, not a table.",
                "Export the data as CSV (comma- or semicolon-separated) or as an .xlsx workbook.",
            )
    sample_bytes = data[:SAMPLE_BYTES]
    try:
        if data.startswith(codecs.BOM_UTF8):
            data.decode("utf-8-sig")
            return sample_bytes.decode("utf-8-sig", errors="ignore"), "utf-8-sig", warnings
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            data.decode("utf-16")
            return (
                sample_bytes[: len(sample_bytes) // 2 * 2].decode("utf-16", errors="ignore"),
                "utf-16",
                warnings,
            )
    except UnicodeDecodeError:
        raise reject(
            file_name,
            "The file starts like Unicode text but is damaged or cut off.",
            "Export it again (CSV UTF-8 from Excel works well) and upload the new file.",
        ) from None
    head = data[:4000]
    if head and head.count(b"\x00") > len(head) // 4:
        # UTF-16 without a BOM: every other byte of ASCII text is zero.
        codec = "utf-16-be" if head[0::2].count(0) > head[1::2].count(0) else "utf-16-le"
        try:
            data.decode(codec)
            return (
                sample_bytes[: len(sample_bytes) // 2 * 2].decode(codec, errors="ignore"),
                codec,
                warnings,
            )
        except UnicodeDecodeError:
            pass
    if b"\x00" in head:
        raise reject(
            file_name,
            "This file holds binary data, not text.",
            "Export the data as CSV or .xlsx and upload that file.",
        )
    try:
        data.decode("utf-8")
        return sample_bytes.decode("utf-8", errors="ignore"), "utf-8", warnings
    except UnicodeDecodeError:
        sample = sample_bytes.decode("cp1252", errors="replace")
        if sample.count("\ufffd") > max(10, len(sample) // 100):
            raise reject(
                file_name,
                "This file is not readable text in any common encoding.",
                "Save it again as 'CSV UTF-8' from Excel, or as .xlsx.",
            ) from None
        warnings.append("The file is not UTF-8; it was read as Windows-1252 (Western European).")
        return sample, "cp1252", warnings


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number of fields (>1)."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()][:20]
    if not lines:
        return ","
    best, best_score = ",", (-1, 0)
    for delim in _DELIMITERS:
        counts = []
        for row in csv.reader(lines, delimiter=delim):
            counts.append(len(row))
        header_fields = counts[0]
        if header_fields < 2:
            continue
        consistent = sum(1 for c in counts if c == header_fields)
        score = (consistent, header_fields)
        if score > best_score:
            best, best_score = delim, score
    return best


_PANDAS_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_PANDAS_EOF = re.compile(r"EOF inside string starting at row (\d+)", re.IGNORECASE)


def _parser_problem(exc: Exception, skip: int) -> Problem:
    """A pandas parser error as a Problem; `skip` blank lines came before the header."""
    text = str(exc)
    m = _PANDAS_FIELDS.search(text)
    if m:
        expected, line, saw = (int(g) for g in m.groups())
        return Problem(
            line,
            None,
            None,
            f"This row has {saw} values but the header has {expected} columns.",
            "Remove the extra values, or put text that contains the delimiter in double quotes.",
        )
    m = _PANDAS_EOF.search(text)
    if m:
        return Problem(
            int(m.group(1)) + 1,
            None,
            None,
            "A double quote opened in this row is never closed, so the rest of the file runs together.",
            "Close the quote, or remove the stray double quote.",
        )
    return Problem(
        None,
        None,
        None,
        f"The file could not be read as a table ({text.strip()}).",
        "Check that it is a CSV export with one header row.",
    )


def _clean_header(raw: list[str]) -> list[str]:
    return [str(h).strip().strip("\ufeff") for h in raw]


def _csv_table(data: bytes, file_name: str, chunksize: int) -> Table:
    sample, encoding, warnings = decode(data, file_name)
    delimiter = sniff_delimiter(sample)
    lines = sample.splitlines()
    # Blank lines (or lines of only delimiters) before the header are skipped.
    skip = 0
    while skip < len(lines) and not lines[skip].strip().strip(delimiter).strip():
        skip += 1
    if skip == len(lines):
        raise reject(
            file_name,
            "The file is empty.",
            "Upload a file with a header row and at least one row of data.",
        )
    header = _clean_header(next(csv.reader(lines[skip:], delimiter=delimiter)))
    width = len(header)

    def read(numeric: frozenset[int] = frozenset()) -> Iterator[pd.DataFrame]:
        # Numeric columns are parsed by pandas' C reader (text that is not a plain number keeps
        # the column as text, for Liftoff's own number parser); every other column stays text.
        dtypes = {i: str for i in range(width) if i not in numeric}
        try:
            with warnings_module.catch_warnings():
                # A first data row longer than the header is otherwise dropped with a warning.
                warnings_module.simplefilter("error", pd.errors.ParserWarning)
                reader = pd.read_csv(
                    io.BytesIO(data),
                    encoding=encoding,
                    encoding_errors="replace",
                    sep=delimiter,
                    skiprows=skip,
                    header=0,
                    names=list(range(width)),
                    index_col=False,
                    dtype=dtypes,
                    keep_default_na=False,
                    na_filter=False,
                    skip_blank_lines=True,
                    chunksize=chunksize,
                    engine="c",
                    quotechar='"',
                    doublequote=True,
                )
                for chunk in reader:
                    chunk.columns = header
                    yield chunk
        except pd.errors.ParserWarning:
            raise ImportRejected(
                file_name,
                [
                    Problem(
                        skip + 2,
                        None,
                        None,
                        "This row has more values than the header has columns.",
                        "Remove the extra values, or put text that contains the delimiter in double quotes.",
                    )
                ],
            ) from None
        except pd.errors.EmptyDataError:
            return
        except (pd.errors.ParserError, ValueError) as exc:
            raise ImportRejected(file_name, [_parser_problem(exc, skip)]) from None

    return Table(
        file_name, header, read, encoding, delimiter, warnings=warnings, row_offset=skip + 2
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value != int(value) or abs(value) > 1e15 else str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):  # a time of day alone has no date to give
        return value.isoformat()
    return str(value)


def _xlsx_table(data: bytes, file_name: str, sheet: str | None, chunksize: int) -> Table:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency of liftoff
        raise reject(file_name, "Excel support is not installed.", "pip install openpyxl") from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise reject(
            file_name,
            f"This Excel workbook could not be opened ({exc}).",
            "Open it in Excel, save it again as .xlsx, and upload that file.",
        ) from None
    names = list(book.sheetnames)
    if sheet is None:
        sheet = names[0]
    elif sheet not in names:
        raise reject(
            file_name,
            f"The workbook has no sheet named {sheet!r}.",
            f"Choose one of its sheets: {', '.join(names)}.",
        )
    rows = book[sheet].iter_rows(values_only=True)
    header = None
    header_row = 0
    for raw in rows:
        header_row += 1
        if any(v not in (None, "") for v in raw):
            header = _clean_header([_cell_text(v) for v in raw])
            break
    if header is None:
        raise reject(
            file_name, f"Sheet {sheet!r} is empty.", "Choose the sheet that holds the data."
        )
    while header and header[-1] == "":
        header.pop()
    width = len(header)

    def chunks(numeric: frozenset[int] = frozenset()) -> Iterator[pd.DataFrame]:
        buffer: list[list[str]] = []
        start = 0
        for raw in rows:
            cells = [_cell_text(v) for v in raw]
            extra = cells[width:]
            if any(extra):
                raise ImportRejected(
                    file_name,
                    [
                        Problem(
                            None,
                            None,
                            None,
                            "A row has values to the right of the last named column.",
                            "Give every column a header, or delete the stray values.",
                        )
                    ],
                )
            buffer.append((cells + [""] * width)[:width])
            if len(buffer) >= chunksize:
                yield pd.DataFrame(buffer, columns=header, index=range(start, start + len(buffer)))
                start += len(buffer)
                buffer = []
        if buffer:
            yield pd.DataFrame(buffer, columns=header, index=range(start, start + len(buffer)))
        book.close()

    return Table(
        file_name,
        header,
        chunks,
        "xlsx",
        None,
        sheet=sheet,
        sheets=names,
        row_offset=header_row + 1,
    )


def read_table(
    data: bytes, file_name: str, sheet: str | None = None, chunksize: int = CHUNK_ROWS
) -> Table:
    """Read `data` (CSV in any common encoding and delimiter, or .xlsx) as a table of text."""
    if len(data) > MAX_FILE_MB * 1024 * 1024:
        raise reject(
            file_name,
            f"The file is {len(data) / 1024 / 1024:,.1f} MB; Liftoff imports files up to "
            f"{MAX_FILE_MB:g} MB.",
            "Split it into smaller files (each imports on its own) or leave out columns it does not need.",
        )
    if not data.strip():
        raise reject(
            file_name,
            "The file is empty.",
            "Upload a file with a header row and at least one row of data.",
        )
    if is_xlsx(data):
        return _xlsx_table(data, file_name, sheet, chunksize)
    if data.startswith(b"PK\x03\x04"):
        raise reject(
            file_name,
            "This file is a ZIP archive, not a table.",
            "Unpack it and upload the CSV or .xlsx file inside.",
        )
    return _csv_table(data, file_name, chunksize)
