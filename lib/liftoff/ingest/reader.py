"""From uploaded bytes to a table of strings: encoding, delimiter, quotes, Excel sheets."""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
import time as clock
import warnings as warnings_module
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from liftoff.ingest.problems import ImportRejected, Problem, reject

# The largest file Liftoff imports, in MB; .streamlit/config.toml's server.maxUploadSize is the
# same (a test checks), so the Upload page and `liftoff import` accept the same files.
MAX_FILE_MB = 200
CHUNK_ROWS = 50_000
# How much of a text file is kept as text to find its delimiter and header.
SAMPLE_BYTES = 256 * 1024
# The sniffer reads the sample with the csv module, whose default field limit (128 KB) made a
# long comment in the first lines a traceback; no field of the sample can be longer than it.
csv.field_size_limit(max(csv.field_size_limit(), 4 * SAMPLE_BYTES))


@dataclass(frozen=True)
class Bounds:
    """What one file may hold, so that one upload never slows down everyone else: each is
    enforced while the file is read, and a file past one is refused with its name."""

    rows: int = 5_000_000
    # Excel's own sheet limit: a workbook that claims more was not written by a spreadsheet.
    workbook_rows: int = 1_048_576
    columns: int = 1_000
    cell_chars: int = 1_000_000
    uncompressed_mb: int = 1_000  # a workbook's XML, unpacked
    seconds: float = 300.0


BOUNDS = Bounds()
# How often (seconds) a long read asks its caller whether it is still wanted.
CHECK_EVERY = 0.25


class Watch:
    """The time bound and the caller's cancellation hook of one read.

    `checkpoint()`, when given, is called every CHECK_EVERY seconds of reading and may raise
    to stop the work (the Upload page raises when its visitor has left or changed the form).
    """

    def __init__(
        self,
        file_name: str,
        bounds: Bounds | None = None,
        checkpoint: Callable[[], None] | None = None,
    ):
        self.file_name = file_name
        self.bounds = bounds or BOUNDS
        self.checkpoint = checkpoint
        self.started = clock.monotonic()
        self._last = self.started

    def tick(self) -> None:
        """Refuse the file once reading it has taken longer than the bound."""
        now = clock.monotonic()
        if now - self._last < CHECK_EVERY:
            return
        self._last = now
        if self.checkpoint is not None:
            self.checkpoint()
        if now - self.started > self.bounds.seconds:
            raise reject(
                self.file_name,
                f"Reading this file took longer than {self.bounds.seconds:,.0f} seconds, the "
                "longest Liftoff spends on one file.",
                "Split it into smaller files (each imports on its own).",
            )

    def rows(self, count: int, limit: int | None = None) -> None:
        limit = limit or self.bounds.rows
        if count > limit:
            raise reject(
                self.file_name,
                f"The file has more than {limit:,} rows, the most Liftoff reads from one file.",
                "Split it into smaller files (each imports on its own).",
            )

    def columns(self, count: int) -> None:
        if count > self.bounds.columns:
            raise reject(
                self.file_name,
                f"The file has {count:,} columns; Liftoff reads at most "
                f"{self.bounds.columns:,} columns.",
                "Leave out the columns it does not need, or put one metric per row "
                "(metric and value columns).",
            )

    def cell(
        self, row: int | None, column: str | None, length: int, *, at_least: bool = False
    ) -> ImportRejected:
        return reject(
            self.file_name,
            f"A cell holds {'more than ' if at_least else ''}{length:,} characters; Liftoff "
            "keeps at most "
            f"{self.bounds.cell_chars:,} characters in one cell.",
            "Shorten the text, or check that a quote opened in this row is closed.",
            row=row,
            column=column,
        )


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
    watch: Watch | None = None


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
    except UnicodeDecodeError as exc:
        if _UTF8_SEQUENCE.search(data):
            # Some rows are UTF-8 and some are not: read as Windows-1252 the UTF-8 rows would
            # turn into garbled names ("PrÃ©cision"), read as UTF-8 the others would.
            row = data.count(b"\n", 0, exc.start) + 1
            raise reject(
                file_name,
                f"The file mixes text encodings: it is UTF-8 up to row {row}, which is not.",
                "Save the whole file again as 'CSV UTF-8' from one program, then upload it.",
                row=row,
            ) from None
        sample = sample_bytes.decode("cp1252", errors="replace")
        if sample.count("\ufffd") > max(10, len(sample) // 100):
            raise reject(
                file_name,
                "This file is not readable text in any common encoding.",
                "Save it again as 'CSV UTF-8' from Excel, or as .xlsx.",
            ) from None
        warnings.append("The file is not UTF-8; it was read as Windows-1252 (Western European).")
        return sample, "cp1252", warnings


# A character of two to four bytes as UTF-8 writes it; Windows-1252 text almost never has one.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


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


def _clean_header(raw: list[str], file_name: str, watch: Watch) -> list[str]:
    header = [str(h).strip().strip("\ufeff") for h in raw]
    watch.columns(len(header))
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            continue
        if name.casefold() in seen:
            first = seen[name.casefold()]
            raise reject(
                file_name,
                f"Two columns have the same name {name!r} (columns {first + 1} and {i + 1}), "
                "so Liftoff cannot tell which one to read.",
                "Rename or remove one of them.",
                row=1,
                column=name,
            )
        seen[name.casefold()] = i
    return header


def _check_cells(chunk: pd.DataFrame, watch: Watch, row_offset: int) -> None:
    """Refuse a chunk with a cell longer than the bound (text columns only: a number is short)."""
    limit = watch.bounds.cell_chars
    for col in chunk.columns:
        column = chunk[col]
        if pd.api.types.is_numeric_dtype(column):
            continue
        try:
            lengths = column.str.len()
        except AttributeError:  # whole numbers too large for int64, kept as Python ints
            continue
        longest = lengths.max()
        if pd.notna(longest) and longest > limit:
            at = lengths.idxmax()
            raise watch.cell(int(at) + row_offset, str(col), int(longest))


def _longest_gap(data: bytes, byte: int, piece: int = 16 * 1024 * 1024) -> int:
    """The longest run of bytes between two `byte`s (or an end of `data`), in pieces of 16 MB
    so that a 200 MB file needs no 200 MB mask."""
    longest, last = 0, -1
    for start in range(0, len(data), piece):
        at = np.flatnonzero(
            np.frombuffer(data, np.uint8, min(piece, len(data) - start), start) == byte
        )
        if len(at):
            at = at + start
            longest = max(longest, int(at[0] - last - 1))
            if len(at) > 1:
                longest = max(longest, int(np.diff(at).max() - 1))
            last = int(at[-1])
    return max(longest, len(data) - last - 1)


def _may_hold_long_cells(data: bytes, limit: int) -> bool:
    """Whether any cell of `data` can be longer than `limit` characters: only when a line, or
    the text between two double quotes, is (a character is at least one byte). Checking every
    cell of a million rows takes seconds; these two passes over the bytes take milliseconds."""
    if len(data) <= limit:
        return False
    quoted = data.find(b'"') >= 0 and _longest_gap(data, 0x22) > limit
    return quoted or (not _short_lines(data, limit) and _longest_gap(data, 0x0A) > limit)


def _short_lines(data: bytes, limit: int) -> bool:
    """True when every stretch of `limit // 2` bytes holds a line break, so that no line is
    longer than `limit`: a few hundred searches that each stop at the first break (a 45 MB
    file: 0.1 ms, where measuring the longest line takes 50 ms). False says nothing."""
    step = max(1, limit // 2)
    return all(
        data.find(b"\n", start, start + step) >= 0 for start in range(0, len(data) - step, step)
    )


def _csv_table(data: bytes, file_name: str, chunksize: int, watch: Watch) -> Table:
    sample, encoding, warnings = decode(data, file_name)
    delimiter = sniff_delimiter(sample)
    lines = sample.splitlines()
    if len(lines) <= 1 and len(data) > SAMPLE_BYTES:
        # The first line alone is longer than the sample: no header of column names is.
        raise reject(
            file_name,
            f"The first line is longer than {SAMPLE_BYTES // 1024} KB, so it is not a header of "
            f"column names (Liftoff reads at most {watch.bounds.columns:,} columns).",
            "Put the column names in the first row, one per column, and leave out the columns "
            "the file does not need.",
            row=1,
        )
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
    header = _clean_header(next(csv.reader(lines[skip:], delimiter=delimiter)), file_name, watch)
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
                rows = 0
                check_cells = _may_hold_long_cells(data, watch.bounds.cell_chars)
                for chunk in reader:
                    chunk.columns = header
                    rows += len(chunk)
                    watch.rows(rows)
                    if check_cells:
                        _check_cells(chunk, watch, skip + 2)
                    watch.tick()
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
        file_name,
        header,
        read,
        encoding,
        delimiter,
        warnings=warnings,
        row_offset=skip + 2,
        watch=watch,
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


_ROW_TAGS = (b"<row ", b"<row>")
# Row numbers of seven digits or more, and cell references of three letters or more (columns
# past ZZ): rare in real sheets, so these simple patterns stay fast over a million rows.
_ROW_NUMBER = re.compile(rb' r="(\d{7,})"')
_WIDE_CELL = re.compile(rb' r="([A-Z]{3,})\d')
_SHEET_NAME = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _damaged(file_name: str, what: str) -> ImportRejected:
    return reject(
        file_name,
        f"This Excel workbook is {what}.",
        "Open it in Excel, save it again as .xlsx, and upload that file.",
    )


def _open_zip(data: bytes, file_name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        # A ZIP file keeps its table of contents at its end: a download or copy cut short loses it.
        raise _damaged(file_name, "truncated (the file is cut off before its end)") from None


def inspect_workbook(data: bytes, file_name: str, watch: Watch | None = None) -> list[str]:
    """Check a workbook's structure before openpyxl reads it, streaming its XML in pieces:
    unpacked size, rows and columns of every sheet, and the longest text, within the bounds.
    Returns its sheet names. openpyxl trusts what a file declares (a sheet's <dimension>, a
    shared string's length), which is how a 4.8 KB file kept a core busy for minutes."""
    watch = watch or Watch(file_name)
    bounds = watch.bounds
    with _open_zip(data, file_name) as z:
        infos = z.infolist()
        unpacked = sum(i.file_size for i in infos)
        if unpacked > bounds.uncompressed_mb * 1024 * 1024:
            raise reject(
                file_name,
                f"This workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB; Liftoff reads "
                f"workbooks of at most {bounds.uncompressed_mb:,} MB unpacked.",
                "Save the sheet that holds the data as CSV, or split the workbook.",
            )
        longest_run = 4 * bounds.cell_chars  # bytes: a character is at most 4 in UTF-8
        run_start = re.compile(rb"(?:^|(?<=<))[^<]{%d}" % longest_run)
        try:
            workbook = z.read("xl/workbook.xml") if "xl/workbook.xml" in z.namelist() else b""
            for info in infos:
                name = info.filename
                is_sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
                if not (is_sheet or name == "xl/sharedStrings.xml"):
                    continue
                rows, carry, tail = 0, 0, b""
                with z.open(info) as part:
                    while piece := part.read(1 << 20):
                        watch.tick()
                        joined = tail + piece
                        if is_sheet:
                            # The tail of the piece before was counted with it already.
                            rows += sum(joined.count(t) - tail.count(t) for t in _ROW_TAGS)
                            if rows > bounds.workbook_rows or any(
                                int(m.group(1)) > bounds.workbook_rows
                                for m in _ROW_NUMBER.finditer(joined)
                            ):
                                watch.rows(bounds.workbook_rows + 1, bounds.workbook_rows)
                            for m in _WIDE_CELL.finditer(joined):
                                watch.columns(_column_number(m.group(1)))
                        first = piece.find(b"<")
                        carry += len(piece) if first < 0 else first
                        if carry >= longest_run or run_start.search(piece, max(first, 0)):
                            raise watch.cell(None, None, bounds.cell_chars, at_least=True)
                        if first >= 0:
                            carry = len(piece) - piece.rfind(b"<") - 1
                        tail = piece[-64:]
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise _damaged(file_name, "damaged: part of it cannot be unpacked") from None
    return [html.unescape(n.decode("utf-8", "replace")) for n in _SHEET_NAME.findall(workbook)]


def _xlsx_table(
    data: bytes, file_name: str, sheet: str | None, chunksize: int, watch: Watch
) -> Table:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency of liftoff
        raise reject(file_name, "Excel support is not installed.", "pip install openpyxl") from None
    inspect_workbook(data, file_name, watch)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise reject(
            file_name,
            f"This Excel workbook could not be opened ({str(exc)[:200]}).",
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
    worksheet = book[sheet]
    # Without this, openpyxl pads every row to the size the sheet declares (<dimension>): the
    # checks above bound the real rows and columns, not the declared ones.
    worksheet.reset_dimensions()
    limit = watch.bounds.cell_chars

    def cell_texts(raw, row: int) -> list[str]:
        cells = [_cell_text(v) for v in raw]
        for i, text in enumerate(cells):
            if len(text) > limit:
                raise watch.cell(row, header[i] if header and i < len(header) else None, len(text))
        return cells

    rows = worksheet.iter_rows(values_only=True)
    header = None
    header_row = 0
    for raw in rows:
        header_row += 1
        watch.tick()
        if any(v not in (None, "") for v in raw):
            header = _clean_header(cell_texts(raw, header_row), file_name, watch)
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
        index: list[int] = []
        for n, raw in enumerate(rows):
            watch.tick()
            # Empty rows are not data (the pipeline drops them): skipped here, a sheet's
            # formatted last row no longer makes a million rows of empty text.
            if not any(v is not None and v != "" for v in raw):
                continue
            cells = cell_texts(raw, header_row + 1 + n)
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
            index.append(n)
            if len(buffer) >= chunksize:
                yield pd.DataFrame(buffer, columns=header, index=index)
                buffer, index = [], []
        if buffer:
            yield pd.DataFrame(buffer, columns=header, index=index)
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
        watch=watch,
    )


def check_size(size: int, file_name: str) -> None:
    """Refuse a file over the size limit before it is read (`liftoff import` asks the file
    system; the Upload page's limit is Streamlit's server.maxUploadSize, the same number)."""
    if size > MAX_FILE_MB * 1024 * 1024:
        raise reject(
            file_name,
            f"The file is {size / 1024 / 1024:,.1f} MB; Liftoff imports files up to "
            f"{MAX_FILE_MB:g} MB.",
            "Split it into smaller files (each imports on its own) or leave out columns it does not need.",
        )


def read_table(
    data: bytes,
    file_name: str,
    sheet: str | None = None,
    chunksize: int = CHUNK_ROWS,
    *,
    bounds: Bounds | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> Table:
    """Read `data` (CSV in any common encoding and delimiter, or .xlsx) as a table of text,
    within `bounds` (rows, columns, cell size, unpacked size, time; BOUNDS by default).
    `checkpoint` is called now and then while reading and may raise to stop the work."""
    check_size(len(data), file_name)
    if not data or data.isspace():
        raise reject(
            file_name,
            "The file is empty.",
            "Upload a file with a header row and at least one row of data.",
        )
    watch = Watch(file_name, bounds, checkpoint)
    if data.startswith(b"PK\x03\x04"):
        with _open_zip(data, file_name) as z:
            workbook = "xl/workbook.xml" in z.namelist()
        if workbook:
            return _xlsx_table(data, file_name, sheet, chunksize, watch)
        raise reject(
            file_name,
            "This file is a ZIP archive, not a table.",
            "Unpack it and upload the CSV or .xlsx file inside.",
        )
    return _csv_table(data, file_name, chunksize, watch)
