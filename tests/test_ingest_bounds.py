"""The reader's bounds (rows, columns, cell size, unpacked size, time) and its cancellation hook,
on small files with small bounds: each bound refuses with a message that names it."""

import pytest

import hostile_files
from liftoff import ingest
from liftoff.ingest import reader
from liftoff.ingest.reader import Bounds


def _rows(data: bytes, name: str = "f.csv", **kwargs) -> int:
    table = reader.read_table(data, name, chunksize=10, **kwargs)
    return sum(len(chunk) for chunk in table.read())


def _workbook(tmp_path, rows, **kwargs) -> bytes:
    path = tmp_path / "book.xlsx"
    hostile_files.write_workbook(path, rows, **kwargs)
    return path.read_bytes()


CSV = ("iteration,metric,value\n" + "1,recall,0.5\n" * 100).encode()
HEADER = ["iteration", "metric", "value"]


def test_rows_past_the_bound_are_refused_while_reading_csv_and_workbooks(tmp_path):
    with pytest.raises(ingest.ImportRejected, match="more than 50 rows"):
        _rows(CSV, bounds=Bounds(rows=50))
    book = _workbook(tmp_path, [HEADER] + [[1, "recall", 0.5]] * 100)
    with pytest.raises(ingest.ImportRejected, match="more than 50 rows"):
        _rows(book, "book.xlsx", bounds=Bounds(workbook_rows=50))
    assert _rows(CSV, bounds=Bounds(rows=100)) == 100


def test_columns_past_the_bound_are_refused_before_any_row_is_read(tmp_path):
    with pytest.raises(ingest.ImportRejected, match="3 columns; Liftoff reads at most 2 columns"):
        reader.read_table(CSV, "f.csv", bounds=Bounds(columns=2))
    with pytest.raises(ingest.ImportRejected, match="3 columns; Liftoff reads at most 2 columns"):
        reader.read_table(_workbook(tmp_path, [HEADER]), "b.xlsx", bounds=Bounds(columns=2))


def test_a_cell_past_the_bound_is_refused_naming_row_and_column(tmp_path):
    data = b"iteration,metric,value\n1,recall,0.5\n1," + b"x" * 40 + b",0.5\n"
    with pytest.raises(ingest.ImportRejected) as exc:
        _rows(data, bounds=Bounds(cell_chars=20))
    problem = exc.value.problems[0]
    assert (problem.row, problem.column) == (3, "metric")
    assert "A cell holds 40 characters; Liftoff keeps at most 20" in problem.message
    book = _workbook(tmp_path, [HEADER, [1, "recall", 0.5], [1, "x" * 40, 0.5]])
    with pytest.raises(ingest.ImportRejected, match="A cell holds 40 characters") as exc:
        _rows(book, "b.xlsx", bounds=Bounds(cell_chars=20))
    assert (exc.value.problems[0].row, exc.value.problems[0].column) == (3, "metric")


def test_a_workbook_whose_text_is_past_the_bound_is_refused_before_openpyxl_reads_it(
    tmp_path, monkeypatch
):
    # openpyxl loads every shared string when it opens a workbook: a 400 MB cell took 2.4 GB.
    book = _workbook(tmp_path, [HEADER, [1, "recall", 0.5]], shared=["y" * 5_000])
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("opened"))
    with pytest.raises(ingest.ImportRejected, match="A cell holds"):
        reader.read_table(book, "b.xlsx", bounds=Bounds(cell_chars=1_000))


def test_a_workbook_that_unpacks_past_the_bound_is_refused(tmp_path):
    book = _workbook(tmp_path, [HEADER] + [[1, "recall", 0.5]] * 20_000)
    with pytest.raises(ingest.ImportRejected, match="Liftoff reads workbooks of at most 1 MB"):
        reader.read_table(book, "b.xlsx", bounds=Bounds(uncompressed_mb=1))


def test_reading_past_the_time_bound_is_refused(monkeypatch):
    monkeypatch.setattr(reader, "CHECK_EVERY", 0.0)
    with pytest.raises(ingest.ImportRejected, match="took longer than 0 seconds"):
        _rows(CSV, bounds=Bounds(seconds=0.0))


def test_the_checkpoint_stops_the_work_when_the_caller_no_longer_wants_it(monkeypatch):
    # The Upload page passes a Streamlit yield point: it raises when the visitor has left.
    monkeypatch.setattr(reader, "CHECK_EVERY", 0.0)
    calls = []

    class Gone(Exception):
        pass

    def checkpoint():
        calls.append(1)
        if len(calls) == 3:
            raise Gone

    table = reader.read_table(CSV, "f.csv", chunksize=10, checkpoint=checkpoint)
    read = 0
    with pytest.raises(Gone):
        for chunk in table.read():
            read += len(chunk)
    assert read == 20 and len(calls) == 3  # stopped at the third chunk of ten


def test_prepare_passes_the_checkpoint_to_the_reader(demo_engine, monkeypatch):
    monkeypatch.setattr(reader, "CHECK_EVERY", 0.0)

    class Gone(Exception):
        pass

    def gone():
        raise Gone

    with pytest.raises(Gone):
        ingest.prepare(
            demo_engine,
            CSV,
            "f.csv",
            ingest.Options(initiative="Churn early-warning"),
            checkpoint=gone,
        )


def test_workbook_sheets_are_read_without_openpyxl_and_a_damaged_one_has_none(
    tmp_path, monkeypatch
):
    book = _workbook(tmp_path, [HEADER])
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("opened"))
    assert ingest.workbook_sheets(book) == ["Metrics"]
    assert ingest.workbook_sheets(book[:-100]) == []


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path, capsys, monkeypatch, demo_url
):
    # `liftoff import` read the whole of a 2 GB sparse file first (2.2 GB, 11.5 s).
    import resource

    from liftoff import cli

    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    path = tmp_path / "big.csv"
    with open(path, "wb") as f:
        f.truncate(2 * 1024**3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SystemExit):
        cli.main(["import", str(path)])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "The file is 2,048.0 MB; Liftoff imports files up to 200 MB" in capsys.readouterr().err
    assert grown_mb < 500


def test_truncated_workbook_is_called_truncated(tmp_path):
    book = _workbook(tmp_path, [HEADER, [1, "recall", 0.5]])
    with pytest.raises(ingest.ImportRejected, match="truncated"):
        reader.read_table(book[:-150], "b.xlsx")
    damaged = bytearray(book)
    start = damaged.find(b"xl/worksheets/sheet1.xml") + 60
    damaged[start : start + 40] = b"\0" * 40
    with pytest.raises(ingest.ImportRejected, match="damaged|could not be opened"):
        _rows(bytes(damaged), "b.xlsx")


def test_mixed_encodings_are_refused_naming_the_first_row_that_does_not_decode():
    data = "metric,value\nPrécision,0.5\nRappel,0.5\n".encode() + "Exactitude é,0.5\n".encode(
        "cp1252"
    )
    with pytest.raises(ingest.ImportRejected) as exc:
        reader.read_table(data, "f.csv")
    assert exc.value.problems[0].row == 4
    assert "mixes text encodings" in exc.value.problems[0].message
    # A file entirely in Windows-1252 is still read as such.
    table = reader.read_table("metric,value\nPrécision,0.5\n".encode("cp1252"), "f.csv")
    assert next(table.read()).iloc[0, 0] == "Précision"


def test_a_long_field_in_the_first_lines_does_not_break_the_delimiter_sniffer():
    data = b'text;rating\n"' + b"long, comment " * 20_000 + b'";4\n'
    table = reader.read_table(data, "f.csv")
    assert table.delimiter == ";" and len(next(table.read())) == 1


def test_a_long_quoted_cell_spread_over_short_lines_is_still_refused():
    # Every line is short, but the quoted cell runs over many of them.
    data = b'text,rating\n"' + b"a line\n" * 10 + b'",4\n'
    with pytest.raises(ingest.ImportRejected, match="A cell holds 70 characters"):
        _rows(data, bounds=Bounds(cell_chars=50))
    assert _rows(data, bounds=Bounds(cell_chars=100)) == 1
