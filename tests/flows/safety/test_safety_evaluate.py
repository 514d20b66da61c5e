"""The phrase-list scorer behind `tandem safety eval`, and the corpus gate for `make test`."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.safety.evaluate import CorpusError, evaluate, load_corpus, parse_corpus

CORPUS = Path(__file__).with_name("corpus.tsv")


def test_corpus_gate() -> None:
    """Recall >= 97% overall and per label; false alarms <= 3% (issue 9)."""
    cases = load_corpus(CORPUS)
    labels = [c.label for c in cases]
    assert len(cases) >= 600
    assert labels.count("safe") / len(cases) >= 0.40
    report = evaluate(cases)
    problems = [f"line {r['line']}: {r['text']}" for r in report["misses"]]
    assert report["recall"] >= 0.97, problems
    for label in ("risk", "concern", "human"):
        assert report["labels"][label]["rate"] >= 0.97, (label, problems)
    alarms = [f"line {r['line']}: {r['text']}" for r in report["false_alarms"]]
    assert report["false_alarm_rate"] <= 0.03, alarms


def test_corpus_is_bilingual_and_covers_every_label() -> None:
    cases = load_corpus(CORPUS)
    assert {c.label for c in cases} == {"risk", "concern", "human", "safe"}
    spanish = [c for c in cases if any(w in c.text.lower().split() for w in ("me", "mi", "no"))]
    assert len(spanish) >= 100
    assert len({c.text for c in cases}) == len(cases), "duplicate messages in the corpus"


def test_scores_and_lists_misses_and_false_alarms() -> None:
    content = (
        "# a comment\n"
        "\n"
        "risk\ti want to kill myself\tactive_ideation\n"
        "risk\tthe weather is nice\n"
        "concern\ti wish i was dead\n"
        "human\tcan i talk to a real person\n"
        "human\ti want to die\n"
        "safe\tmy feet are killing me\n"
        "safe\ti want to die\n"
    )
    report = evaluate(parse_corpus(content, "x.tsv"))
    assert report["messages"] == 7
    assert report["labels"]["risk"]["count"] == 2
    assert report["labels"]["risk"]["rate"] == 0.5
    assert report["labels"]["concern"]["exact"] == 1
    # A risk disclosure where a person was asked for still reaches a person.
    assert report["labels"]["human"]["rate"] == 1.0
    assert report["labels"]["human"]["exact"] == 1
    assert report["false_alarm_rate"] == 0.5
    assert [m["line"] for m in report["misses"]] == [4]
    assert [f["line"] for f in report["false_alarms"]] == [9]
    assert "want to die" in report["false_alarms"][0]["signals"][0]["evidence"]
    assert report["expected_categories"]["active_ideation"]["rate"] == 1.0
    assert report["labels"]["risk"]["detected_categories"] == {"active_ideation": 1}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("risk\n", "x.tsv:1: expected 'label<TAB>text'"),
        ("risk\tok\nmaybe\tsomething\n", "x.tsv:2: unknown label 'maybe'"),
        ("risk\t   \n", "x.tsv:1: the message text is empty"),
        ("safe\thi\ta\tb\n", "x.tsv:1: expected"),
        ("safe\thi\tsadness\n", "x.tsv:1: unknown category 'sadness'"),
        ("# only comments\n\n", "x.tsv: no labelled messages"),
    ],
)
def test_malformed_lines_name_file_and_line(content: str, problem: str) -> None:
    with pytest.raises(CorpusError, match=problem.replace("<", ".").replace(">", ".")):
        parse_corpus(content, "x.tsv")


def test_labels_are_case_insensitive_and_crlf_and_bom_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "clinic.tsv"
    path.write_bytes("\ufeffRISK\tquiero morir\r\nSafe\tme muero de risa\r\n".encode())
    cases = load_corpus(path)
    assert [(c.label, c.text, c.line) for c in cases] == [
        ("risk", "quiero morir", 1),
        ("safe", "me muero de risa", 2),
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="cannot read"):
        load_corpus(tmp_path / "missing.tsv")
    with pytest.raises(CorpusError, match="cannot read"):
        load_corpus(tmp_path)
    binary = tmp_path / "b.tsv"
    binary.write_bytes(b"safe\thello\nrisk\t\xff\xfe\n")
    with pytest.raises(CorpusError, match=r"b\.tsv:2: not UTF-8"):
        load_corpus(binary)
