"""The benchmark table of docs/performance.md: `bench/run_all.py` rewrites only what lies between its markers, a
benchmark that fails becomes a row saying so, and every row links to a section that exists. No benchmark runs."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import run_all  # noqa: E402 (bench/ is put on the path just above)

BEFORE = "# Performance\r\n\nIntro — with “quotes” and a trailing space \n\n"
AFTER = "\n\n## Full-scale figures\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\nno newline at the end"


def document(inside: str) -> str:
    return f"{BEFORE}{run_all.START_MARKER}\n{inside}\n{run_all.END_MARKER}{AFTER}"


def test_the_table_writer_replaces_only_the_text_between_the_markers(tmp_path):
    path = tmp_path / "performance.md"
    path.write_bytes(document("old table\n| x |").encode("utf-8"))
    new_section = f"{run_all.START_MARKER}\nnew table\n{run_all.END_MARKER}"

    run_all.write_doc(new_section, path)

    written = path.read_bytes()
    assert written == f"{BEFORE}{new_section}{AFTER}".encode()
    assert b"old table" not in written
    # Writing the same table again changes nothing.
    run_all.write_doc(new_section, path)
    assert path.read_bytes() == written


def test_a_document_without_the_markers_is_left_alone(tmp_path):
    path = tmp_path / "performance.md"
    original = f"{BEFORE}{run_all.START_MARKER} but no end{AFTER}".encode()
    path.write_bytes(original)

    with pytest.raises(ValueError, match="bench-table"):
        run_all.write_doc(f"{run_all.START_MARKER}\nnew\n{run_all.END_MARKER}", path)
    assert path.read_bytes() == original


def test_a_failed_benchmark_becomes_a_row_marked_failed(tmp_path):
    missing = run_all.Benchmark("no_such_benchmark", ("--members", "10"), (run_all.SQLITE,), "Nowhere", "10 members")
    outcome = run_all.run_one(missing, run_all.SQLITE, tmp_path, run_all.Progress())

    assert outcome["error"] == "exit status 2"
    [row] = outcome["rows"]
    assert row["failed"] == "exit status 2"
    assert row["setting"] == "10 members"
    worked = {
        "benchmark": "load", "database": run_all.SQLITE, "command": "bench/load.py", "seconds": 1.0, "error": None,
        "rows": [run_all.results.row("load", "SQLite (WAL)", "4 clients", {"p99 ms": 120.5}, "p99 under 250 ms", True)],
    }  # fmt: skip
    lines = run_all.table_rows([worked, outcome])

    assert len(lines) == 4  # header, rule, one row each
    assert "| p99 ms: 120 | p99 under 250 ms | yes |" in lines[2]
    assert lines[3].startswith("| no_such_benchmark | `.venv/bin/python bench/no_such_benchmark.py --members 10` |")
    assert lines[3].endswith("| **failed**: exit status 2 | – | **failed** |")
    section = run_all.section(
        [worked, outcome], machine_line="2 cores", date="2026-11-26", code="abc1234", seconds=75, loads=[0.1, 2.0]
    )
    assert section.startswith(run_all.START_MARKER) and section.endswith(run_all.END_MARKER)
    assert "in 1 min 15 s" in section


def test_every_benchmark_links_to_a_section_that_exists():
    performance = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    anchors = {run_all.anchor(line.lstrip("#").strip()) for line in performance.splitlines() if line.startswith("#")}
    for benchmark in run_all.BENCHMARKS:
        assert (ROOT / "bench" / f"{benchmark.name}.py").exists(), benchmark.name
        if benchmark.link.startswith("#"):
            assert benchmark.link[1:] in anchors, benchmark.link
        else:
            assert (ROOT / "docs" / benchmark.link.split("#")[0]).exists(), benchmark.link
