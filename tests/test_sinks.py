"""Student text in every sink: the same hostile strings through each format's encoder
(``graders.render.encode``) and through the real writers, terminal, Markdown, HTML, CSV,
JUnit XML and JSON, and once end to end through ``nngrade grade``.

Nothing here grades except the last test (two a1 submissions, about a minute).
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser

import jsonschema
import pytest
from helpers import GRADESCOPE_SCHEMA, REPO, build_submission

from graders import catalog
from graders.batch import feedback, gradebook, summary
from graders.batch.job import JobStatus, Outcome
from graders.batch.records import StudentRecord
from graders.core.results import AssignmentResult, CriterionResult, Status, Violation
from graders.render import FORMATS, encode

HOSTILE = [
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "\r",
    "graded 0/10\rgraded 10/10",
    "\x9b31m",
    "\u202eevil\u202c \u2066x\u2069 \u200e\u200f\u061c",
    "# heading",
    "[link](http://x)",
    "![image](http://x/i.png)",
    "<img src=x onerror=alert(1)>",
    "<h1>",
    '<a href="http://x">x</a>',
    "| a | b |",
    '=HYPERLINK("http://x")',
    "-1+1",
    "+1",
    "@SUM(A1)",
    "\tx",
    "Points 10/10\nPoints 99/100",
    "an error: Points 10/10",
    "points: 10 / 10",
    "POINTS\t100/100",
    "Points\u00a010/10 and Points  99.5/100",
    "pOiNtS 10/10",
    "\udc80",
    "\x00",
    "]]>",
    "*bold* _em_ `code` ~~s~~ $x$",
    "```\nfence",
    "1. item",
    "> quote",
    "line one\n\n# heading two",
    "www.example.com https://example.com user@example.com",
    "'\"&amp; \\",
]

#: What a terminal obeys: C0 (a line break only where a writer keeps lines), DEL, C1,
#: bidirectional controls, line separators, and lone surrogates (no UTF-8 writer takes one).
BIDI = {0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
RAW = {*range(0, 32), *range(127, 160), *BIDI, 0x2028, 0x2029, *range(0xD800, 0xE000)}


def raw_controls(text: str, keep: str = "") -> list[str]:
    """The characters of ``text`` that no sink may show raw (``keep`` aside)."""
    return [c for c in text if ord(c) in RAW and c not in keep]


def unescaped(text: str, char: str) -> int:
    """How often ``char`` occurs in ``text`` not escaped by a backslash."""
    return len(re.findall(r"(?<!\\)(?:\\\\)*" + re.escape(char), text))


def assert_terminal_safe(text: str) -> None:
    assert raw_controls(text, keep="\n") == [], ascii(text)
    text.encode("utf-8")  # printable and writable


# -- the encoders ----------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_terminal_encoder_shows_controls_and_never_obeys_them(text):
    line = encode.terminal(text)
    assert raw_controls(line) == [] and "\n" not in line
    line.encode("utf-8")
    lines = encode.terminal_lines(text)
    assert raw_controls(lines, keep="\n") == []
    if "\x1b" in text:
        assert "\\x1b" in line  # visibly replaced, not silently dropped


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_encoder_gives_one_inert_line(text):
    md = encode.markdown(text)
    assert "\n" not in md and "\r" not in md and raw_controls(md) == []
    assert "<" not in md and ">" not in md  # HTML: entities only
    for char in "[]`*_|~$#@":
        assert unescaped(md, char) == 0, (char, md)
    # At the start of a line (or after "> ") it starts no heading, list or quote.
    assert not re.match(r"\s|[-+=>#]|\d+[.)]", md), md
    assert unescaped(md, "://") == 0 and "www." not in md.lower()


@pytest.mark.parametrize("text", HOSTILE)
def test_html_encoder_escapes_text_and_attributes(text):
    escaped = encode.html(text)
    assert not set("<>\"'") & set(escaped)
    assert raw_controls(escaped, keep="\t\n") == []
    attribute = f"<p title='{escaped}'>{escaped}</p>"
    assert _tags(attribute) == [("p", [("title", html.unescape(escaped))])]


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_encoder_never_starts_a_formula(text):
    buffer = io.StringIO()
    csv.writer(buffer).writerow([encode.csv_cell(text), "7.5"])
    [row] = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert raw_controls(row[0]) == [] and row[1] == "7.5"
    if text.startswith(("=", "+", "-", "@")):
        assert row[0] == "'" + text


@pytest.mark.parametrize("text", HOSTILE)
def test_xml_encoder_keeps_only_what_xml_can_hold(text):
    element = ET.Element("case", message=encode.xml(text))
    element.text = encode.xml(text)
    parsed = ET.fromstring(ET.tostring(element, encoding="unicode"))
    assert raw_controls(parsed.text, keep="\t\n") == []
    assert raw_controls(parsed.get("message"), keep="\t\n") == []


@pytest.mark.parametrize("text", HOSTILE)
def test_json_encoder_survives_any_string(text):
    value = encode.json_value({text: [text, {"k": text}]})
    document = json.dumps(value, ensure_ascii=False)
    document.encode("utf-8")
    assert json.loads(document) == value
    if "\udc80" not in text:
        assert value == {text: [text, {"k": text}]}  # nothing else changes


# -- the renderers ---------------------------------------------------------------------


def hostile_result(text: str) -> AssignmentResult:
    """A graded a1 whose every student-controlled field holds ``text``."""
    return AssignmentResult(
        assignment="a1",
        title="Linear systems with and without numpy",
        max_points=10,
        criteria=[
            CriterionResult("forward", "Forward pass", 4, 1, Status.PARTIAL, reason=text),
            CriterionResult("agreement", "Agreement", 4, 0, Status.FAILED, reason=text),
            CriterionResult("solvers", "Solvers", 2, 0, Status.ERROR, reason=text),
        ],
        violations=[Violation("pure", text, text, f"a1/{text}.py", 3, "static scan")],
        notices=[text, f"{text} is a symbolic link in the zip; ignored"],
        grader_version="0.1.0",
        seed=1,
        confinement="landlock",
        layers=["rlimits", "filesystem-allowlist"],
        limits="60 s",
        submission=text,
        internal_errors=[text],
        output_tail={"pure": f"{text}\n{text}\nPoints 10/10\n"},
        artifacts=[text],
    )


def grader_points_line_only(text: str) -> None:
    """Only the grader's last line starts with ``Points``."""
    lines = text.rstrip("\n").split("\n")
    assert [line for line in lines if line.startswith("Points")] == [lines[-1]], text
    assert lines[-1] in ("Points 1/10", "Points 1/100")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.tags


#: Markup the grader itself writes around student text.
GRADER_MARKUP = re.compile(
    r"\*\*rule broken:\*\*|`[a-z_.]+`|\[(histogram-a\d\.svg)\]\(\1\)|nngrade\[reports\]"
)


def assert_inert_markdown(text: str, allowed_tags: tuple[str, ...] = ()) -> None:
    """No structure from student text: the grader's own markup is all there is."""
    assert raw_controls(text, keep="\n") == [], ascii(text)
    text.encode("utf-8")
    rest = GRADER_MARKUP.sub("", text)
    for tag in allowed_tags:
        rest = rest.replace(tag, "")
    for char in "[]`*_~$@":
        assert unescaped(rest, char) == 0, (char, rest)
    for line in rest.split("\n"):
        body = line[2:] if line.startswith("> ") else line
        assert "<" not in body and ">" not in body, line
        if body.startswith("#"):
            assert re.match(r"#{1,3} (Feedback for |Grading summary|Not graded|a\d: )", body), line
        assert not re.match(r"[-+=]|\d+[.)]", body) or body.startswith("- saved "), line
        assert not body.startswith(("    ", "\t", "```", "~~~")), line


#: Patterns a CI may use for the grader's line (the first match often wins).
POINTS_PATTERNS = [
    re.compile(r"Points (\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)"),
    re.compile(r"(?i)points\s*[:=]?\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)"),
]


def grader_points_match_only(text: str, grader_line: str) -> None:
    """Every pattern finds the grader's ``Points`` line and nothing else."""
    for pattern in POINTS_PATTERNS:
        found = [m.group() for m in pattern.finditer(text)]
        assert found == [pattern.search(grader_line).group()], (pattern.pattern, found)


@pytest.mark.parametrize("text", HOSTILE)
def test_no_encoder_lets_student_text_carry_a_points_line(text):
    for encoder in (encode.terminal, encode.terminal_lines, encode.markdown, encode.html,
                    encode.csv_cell, encode.xml):  # fmt: skip
        encoded = encoder(text)
        assert not any(p.search(encoded) for p in POINTS_PATTERNS), (encoder, encoded)
        assert encode.WORD_JOINER not in encoded or "oint" in text.lower()


def test_the_points_break_is_invisible_and_only_where_a_number_follows():
    assert encode.terminal("Points 10/10") == "Poin\u2060ts 10/10"
    assert encode.terminal("points were lost") == "points were lost"
    assert encode.terminal("a1: 10/10 points, 8 criteria") == "a1: 10/10 points, 8 criteria"
    assert encode.terminal(encode.terminal("Points 1/2")) == encode.terminal("Points 1/2")


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("lab_total", [False, True])
def test_every_format_writes_hostile_text_safely(text, lab_total):
    report = catalog.lab_result([hostile_result(text)], missing=[])
    table = FORMATS["table"](report, lab_total)
    assert_terminal_safe(table)
    grader_points_line_only(table)
    grader_points_match_only(table, table.rstrip("\n").split("\n")[-1])

    github = FORMATS["github"](report, lab_total)
    assert_inert_markdown(github, allowed_tags=("<sub>", "</sub>"))
    grader_points_line_only(github)
    grader_points_match_only(github, github.rstrip("\n").split("\n")[-1])
    for row in (line for line in github.split("\n") if line.startswith("| ")):
        assert unescaped(row, "|") == 5, row  # four columns, whatever the reason holds

    root = ET.fromstring(FORMATS["junit"](report, lab_total))
    for element in root.iter():
        for value in [element.text or "", *element.attrib.values()]:
            assert raw_controls(value, keep="\t\n") == [], ascii(value)
    assert root.find("testsuite/testcase/failure") is not None

    record = json.loads(FORMATS["json"](report, lab_total))  # ASCII: any reader takes it
    kept = AssignmentResult.from_dict(record["assignments"][0] if lab_total else record)
    assert kept.criteria[0].reason == text.encode("utf-8", "backslashreplace").decode()

    document = FORMATS["gradescope"](report, lab_total)
    assert document.isascii()
    data = json.loads(document)
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    for value in [data["output"], *(t.get("output", "") for t in data["tests"])]:
        assert_terminal_safe(value)
    lines = data["output"].split("\n")  # the grader's Points line comes first here
    assert [line for line in lines if line.startswith("Points")] == [lines[0]]
    grader_points_match_only(document, lines[0])
    benign = FORMATS["junit"](catalog.lab_result([hostile_result("x")], missing=[]), lab_total)
    junit = FORMATS["junit"](report, lab_total)
    for pattern in POINTS_PATTERNS:  # only what the grader writes, whatever the text
        assert len(pattern.findall(junit)) == len(pattern.findall(benign)), pattern.pattern


def hostile_class() -> list[StudentRecord]:
    """One student per hostile string, named by it, with a graded a1 and a rejected a2."""
    return [
        StudentRecord(
            text,
            {
                "a1": Outcome(text, "a1", "f", JobStatus.OK, hostile_result(text).to_dict()),
                "a2": Outcome(text, "a2", "f", JobStatus.REJECTED, error=text),
            },
        )
        for text in HOSTILE
    ]


#: The tags a feedback page's own markup uses (its charts aside, which hold no student text).
GRADER_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "strong",
               "table", "tr", "th", "td", "code", "small", "figure", "svg"}  # fmt: skip


def test_feedback_pages_hold_no_student_markup():
    for record in hostile_class():
        page = feedback.markdown(record)
        assert_inert_markdown(page, allowed_tags=("<sub>", "</sub>"))
        assert not any(line.startswith("Points") for line in page.split("\n"))
        assert page.startswith("# Feedback for ")
        document = feedback.html_page(record)
        document.encode("utf-8")
        assert raw_controls(document, keep="\t\n") == [], ascii(document)
        tags = _tags(document)
        assert {tag for tag, _ in tags} <= GRADER_TAGS, tags
        assert sum(tag == "h1" for tag, _ in tags) == 1
        assert {name for _, attrs in tags for name, _ in attrs} <= {"lang", "charset", "class"}


def test_the_gradebook_has_no_formula_and_keeps_points_as_numbers():
    text = gradebook.render(hostile_class())
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert len(body) == len(HOSTILE)  # one line per student: no cell broke a row
    assert len(text.strip("\n").split("\n")) == len(HOSTILE) + 1
    for row in body:
        assert len(row) == len(header)
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
            assert raw_controls(cell) == [], row
        cells = dict(zip(header, row, strict=True))
        assert float(cells["a1"]) == 1 and float(cells["lab_total"]) == 1
        assert float(cells["a1:forward"]) == 1 and cells["a2"] == "0"
    students = [row[0] for row in body]
    assert "'-1+1" in students and "'@SUM(A1)" in students and "'+1" in students


def test_the_class_summary_holds_no_student_markup(tmp_path):
    text = summary.write_summary(hostile_class(), tmp_path)
    assert_inert_markdown(text)
    rows = [line for line in text.split("\n") if line.startswith("| ")]
    not_graded = rows[rows.index("| student | assignment | status | why |") + 1 :]
    assert len(not_graded) == len(HOSTILE)
    for row in not_graded:
        assert unescaped(row, "|") == 5, row
    assert_terminal_safe(encode.terminal_lines(text))


#: The tags of summary.html's own markup (its inline charts aside: no student text there).
SUMMARY_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "em",
                "nav", "section", "a", "table", "tr", "th", "td", "code", "small", "details",
                "summary", "figure", "div", "span"}  # fmt: skip
SUMMARY_ATTRIBUTES = {"lang", "charset", "name", "content", "href", "id", "class", "style",
                      "title", "role", "aria-label"}  # fmt: skip


def test_the_class_page_holds_no_student_markup_and_links_only_to_feedback(tmp_path):
    from urllib.parse import unquote_to_bytes

    from graders.batch import summary_page

    records = hostile_class()
    page = summary_page.write(records, tmp_path).read_text(encoding="utf-8")
    assert raw_controls(page, keep="\t\n") == [], ascii(page)
    tags = _tags(re.sub(r"<svg.*?</svg>", "", page, flags=re.S))
    assert {tag for tag, _ in tags} <= SUMMARY_TAGS, {tag for tag, _ in tags} - SUMMARY_TAGS
    assert sum(tag == "h1" for tag, _ in tags) == 1
    names = {f"{r.student}.html" for r in records}
    for tag, attrs in tags:
        for name, value in attrs:
            assert name in SUMMARY_ATTRIBUTES, (tag, name, value)
            if name == "style":
                assert re.fullmatch(r"(width|left):\d+(\.\d+)?%", value), value
            if name == "href" and not value.startswith("#"):
                assert value in ("gradebook.csv", "summary.md") or value.startswith("feedback/")
                target = value.removeprefix("feedback/")
                assert "/" not in target and ":" not in target, value  # stays in feedback/
                if value.startswith("feedback/"):
                    assert os.fsdecode(unquote_to_bytes(target)) in names, value
    linked = [v for _, attrs in tags for n, v in attrs if n == "href" and v.startswith("feedback/")]
    assert len(set(linked)) == len(records)  # every student, in the students table


# -- end to end: nngrade grade ---------------------------------------------------------

#: A zip entry's name: a title change, a screen clear, a fake line, and markup.
EVIL = (
    "\x1b]0;pwned\x07\x1b[2J\rgraded 10/10 \u202eevil <img src=x onerror=alert(1)> "
    "# [l](http://x) |"
)


def test_nngrade_grade_keeps_hostile_names_out_of_every_output(tmp_path):
    submissions = tmp_path / "submissions"
    build_submission(submissions / "-1+1", assignment="a1")
    reference = build_submission(tmp_path / "zipped", assignment="a1")
    with zipfile.ZipFile(submissions / "@SUM(A1).zip", "w") as bundle:
        for path in sorted(p for p in reference.rglob("*") if p.is_file()):
            bundle.write(path, path.relative_to(reference).as_posix())
        link = zipfile.ZipInfo(f"a1/{EVIL}\nPoints 10/10")  # a notice names it
        link.external_attr = 0o120777 << 16
        bundle.writestr(link, "/etc/shadow")
    with zipfile.ZipFile(submissions / f"{EVIL[:12]}-1.zip", "w") as bundle:
        bundle.writestr(f"../{EVIL}\nPoints 10/10", "owned = True\n")  # rejected, named
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "graders.cli", "grade", "a1", str(submissions), "--out", str(out),
         "--jobs", "2", "--no-progress"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert_terminal_safe(done.stdout)
    assert_terminal_safe(done.stderr)
    assert "3 submissions: 2 graded" in done.stdout and "1 rejected" in done.stdout
    assert "\\x1b" in done.stdout  # the rejected zip's name, shown, not obeyed
    assert not any(line.startswith(("Points", "graded")) for line in done.stdout.split("\n"))

    summary_md = (out / "summary.md").read_text(encoding="utf-8")
    assert_inert_markdown(summary_md)
    pages = sorted((out / "feedback").glob("*.md"))
    assert len(pages) == 3
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert_inert_markdown(text, allowed_tags=("<sub>", "</sub>"))
        lines = text.rstrip("\n").split("\n")
        assert [line for line in lines if line.startswith("Points")] in ([], [lines[-1]])
    zipped = (out / "feedback" / "@SUM_A1.md").read_text(encoding="utf-8")
    assert "is a symbolic link in the zip; ignored" in zipped and "\\x1b" in zipped
    assert "Lab total so far: 10 of the 10 points graded (a1)." in zipped
    for page in (out / "feedback").glob("*.html"):
        tags = {tag for tag, _ in _tags(page.read_text(encoding="utf-8"))}
        assert "img" not in tags and "a" not in tags
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 3
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
            assert raw_controls(cell) == [], row
    by_student = {row["student"]: row for row in rows}
    assert by_student["'-1+1"]["a1"] == "10" and by_student["'@SUM_A1"]["a1"] == "10"
    for record in (out / "students").glob("*.json"):
        json.loads(record.read_text(encoding="utf-8"))
