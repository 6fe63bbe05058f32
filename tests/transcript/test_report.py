"""`smtp-shell report DIR`: one row per transcript, bad files as rows, CSV and JSON."""

from __future__ import annotations

import json
import shutil

from tests.transcript.helpers import ROOT, SHIPPED, cli, small_transcript


def test_report_shows_the_shipped_examples(tmp_path):
    result = cli(["report", ROOT / "transcripts"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "(no name)" in result.stdout and "(free session)" in result.stdout
    report = json.loads(cli(["report", ROOT / "transcripts", "--format", "json"], tmp_path).stdout)
    free, lesson = report["rows"]   # "(no name)" sorts before "Sample Student"
    assert free["runs"] == len(SHIPPED) - 1 and free["lesson"] == "(free session)"
    assert (lesson["student"], lesson["lesson"], lesson["steps_passed"], lesson["steps_total"], lesson["attempts"],
            lesson["failed_attempts"], lesson["hints"], lesson["completed"], lesson["verified"]) == \
        ("Sample Student", "first-message", 6, 6, 8, 2, 2, True, "unchecked")
    rows = {r["file"]: r for r in report["files"]}
    assert set(rows) == {p.name for p in SHIPPED}
    assert all(r["status"] == "complete" for r in rows.values())
    tls = rows["starttls-auth-login-send.jsonl"]
    assert tls["tls"] and tls["authenticated"] and tls["user"] == "student" and tls["messages_accepted"] == 1
    assert rows["minimal-send.jsonl"]["messages_accepted"] == 1 and not rows["minimal-send.jsonl"]["tls"]
    assert rows["typical-errors.jsonl"]["replies_5xx"] >= 5 and not rows["typical-errors.jsonl"]["authenticated"]
    assert rows["pipelined.jsonl"]["messages_accepted"] == 1


def test_bad_files_are_rows_not_crashes(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    small_transcript(folder / "good.jsonl")
    torn = (folder / "good.jsonl").read_bytes()
    (folder / "torn.jsonl").write_bytes(torn[: len(torn) - 30])
    (folder / "junk.jsonl").write_text("hello\n")
    (folder / "sub").mkdir()
    shutil.copy(folder / "good.jsonl", folder / "sub" / "again.jsonl")
    table = cli(["report", folder], tmp_path)
    assert table.returncode == 0 and "Traceback" not in table.stderr
    assert "junk.jsonl" in table.stdout and "unreadable" in table.stdout
    rows = json.loads(cli(["report", folder, "--format", "json"], tmp_path).stdout)["files"]
    junk = next(r for r in rows if r["file"] == "junk.jsonl")
    assert junk["problem"] == "junk.jsonl is not an smtp-shell transcript (line 1 is not its header); record one with --record FILE"
    status = {r["file"]: r["status"] for r in rows}
    assert status == {"good.jsonl": "complete", "torn.jsonl": "incomplete", "junk.jsonl": "unreadable",
                      "sub/again.jsonl": "complete"}
    good = next(r for r in rows if r["file"] == "good.jsonl")
    assert good["replies_5xx"] == 1 and good["steps_passed"] == 1 and good["steps"] == "greeted the server"


def test_report_of_a_missing_folder(tmp_path):
    result = cli(["report", tmp_path / "nowhere"], tmp_path)
    assert result.returncode == 1 and "is not a folder" in result.stderr
