"""The knowledge base: the real one is complete and matches the clinical spec; broken files are
refused with a message that says where (file, entry, field, line) and what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from liptwitch.core.knowledge_base import (
    TRIAGE_LEVELS,
    KnowledgeBase,
    KnowledgeBaseError,
    load_knowledge_base,
)
from tests.helpers import SHARED, triage_rows

SEEDS = SHARED / "seeds"


# --- the real knowledge base -------------------------------------------------------------------


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", text.strip()) if s]


def test_real_knowledge_base_has_the_general_topics(kb: KnowledgeBase) -> None:
    topics = {item.id for item in kb.of_kind("topic")}
    assert {"definition", "seriousness", "see_doctor", "summary"} <= topics


def test_real_knowledge_base_has_the_six_causes(kb: KnowledgeBase) -> None:
    assert [item.id for item in kb.of_kind("cause")] == [
        "stress", "fatigue", "nutrition", "caffeine", "medication", "neurological"]


def test_real_knowledge_base_has_four_symptoms_and_six_treatments(kb: KnowledgeBase) -> None:
    assert len(kb.of_kind("symptom")) == 4
    assert len(kb.of_kind("treatment")) == 6


@pytest.mark.parametrize("cause", ["stress", "fatigue", "nutrition", "caffeine", "medication", "neurological"])
def test_each_cause_names_its_treatment_first(kb: KnowledgeBase, cause: str) -> None:
    treatments = kb.treatments_for(cause)
    assert treatments, f"{cause} has no related treatment"
    first = kb.get(kb.get(cause).related[0])
    assert first.kind == "treatment"
    assert treatments[0] == first


def test_each_treatment_links_back_to_a_cause(kb: KnowledgeBase) -> None:
    for treatment in kb.of_kind("treatment"):
        assert kb.causes_for(treatment.id), f"{treatment.id} addresses no cause"


def test_listed_kinds_have_a_gist_and_list_intro(kb: KnowledgeBase) -> None:
    for kind in ("cause", "symptom", "treatment"):
        assert kb.list_intros.get(kind), f"no intro for the {kind} list"
        for item in kb.of_kind(kind):
            assert item.gist, f"{item.id} has no gist"


@pytest.mark.parametrize("item_id", [item_id for item_id in load_knowledge_base().items])
def test_each_short_answer_is_two_to_four_sentences(kb: KnowledgeBase, item_id: str) -> None:
    short = kb.get(item_id).short
    assert 2 <= len(_sentences(short)) <= 4, f"{item_id}: {short!r}"


def test_every_item_has_a_source_from_a_known_article(kb: KnowledgeBase) -> None:
    for item in kb.items.values():
        assert item.sources, f"{item.id} has no source"
        for source in item.sources:
            assert source.article in kb.articles
            assert source.section.strip()


def test_sources_are_the_articles_the_clinical_spec_and_named_public_pages(kb: KnowledgeBase) -> None:
    files = {a.id for a in kb.articles.values() if a.file}
    assert files == {"A", "B", "TRIAGE"}
    for article in kb.articles.values():
        if article.file:
            path = SEEDS / article.file
            assert path.is_file(), f"article {article.id}: {path} does not exist"
            assert path.read_text(encoding="utf-8").strip()
        else:
            assert article.url.startswith(("https://", "http://")) and " - " in article.title, article.id
    cited = {source.article for item in kb.items.values() for source in item.sources}
    assert cited == set(kb.articles), f"sources never cited: {set(kb.articles) - cited}"
    # Everything but the warning signs comes from the two articles, or is new content awaiting review.
    from_articles = {item.id for item in kb.items.values() if {s.article for s in item.sources} & {"A", "B"}}
    awaiting = {item.id for item in kb.items.values() if item.review == "awaiting clinical review"}
    assert set(kb.items) - from_articles - awaiting == {"warning_signs"}


def test_content_beyond_the_articles_cites_public_pages_and_awaits_review(kb: KnowledgeBase) -> None:
    for item in kb.items.values():
        if not {s.article for s in item.sources} & {"A", "B", "TRIAGE"}:
            assert item.review == "awaiting clinical review", item.id
            assert all(kb.articles[s.article].url for s in item.sources), item.id


# --- red flags against the clinical specification -------------------------------------------


def _triage_rows() -> dict[str, str]:
    return {flag_id: level for flag_id, level, _examples in triage_rows()}


def test_triage_spec_is_parsed() -> None:
    rows = _triage_rows()
    assert sorted(rows) == [f"RF{n:02d}" for n in range(1, 23)]
    assert set(rows.values()) <= set(TRIAGE_LEVELS)


def test_red_flags_match_the_triage_spec(kb: KnowledgeBase) -> None:
    expected = _triage_rows()
    assert {flag_id: flag.level for flag_id, flag in kb.red_flags.items()} == expected


def test_every_red_flag_has_terms(kb: KnowledgeBase) -> None:
    for flag in kb.red_flags.values():
        assert flag.terms and all(term.strip() for term in flag.terms), flag.id


# --- broken files ------------------------------------------------------------------------------

SOURCES = """\
kind: source
items:
  - id: A
    title: Article A
    file: a.txt
"""

TOPICS = """\
kind: topic
items:
  - id: definition
    title: What lip twitching is
    synonyms: [lip twitching, lip twitch]
    short: Lip twitching is a small involuntary movement of the lip. It is usually harmless.
    details: Lip twitching is a small involuntary movement of the lip muscles.
    related: [stress]
    sources:
      - {article: A, section: introduction}
"""

CAUSES = """\
kind: cause
items:
  - id: stress
    title: Stress and anxiety
    gist: tension can set off twitches
    synonyms: [stress, anxiety]
    short: Stress is a common trigger. Managing it often helps.
    details: Stress hormones tense the muscles.
    related: [stress_management]
    sources:
      - {article: A, section: causes}
"""

SECOND_CAUSE = """\
  - id: caffeine
    title: Caffeine
    gist: too much coffee
    synonyms: [coffee]
    short: Too much coffee can cause twitching. Cut down gradually.
    details: Caffeine overstimulates the nervous system.
    related: [stress_management]
    sources:
      - {article: A, section: causes}
"""

TREATMENTS = """\
kind: treatment
items:
  - id: stress_management
    title: Stress management
    gist: relaxation and breathing exercises
    synonyms: [relaxation, meditation]
    short: Relaxation techniques help. Try deep breathing.
    details: Meditation and mindfulness calm the muscles.
    related: [stress]
    sources:
      - {article: A, section: treatment options}
"""

RED_FLAGS = """\
kind: red_flag
items:
  - id: RF01
    title: Face drooping on one side
    level: emergency
    terms: [face drooping, lopsided smile]
"""

GOOD = {
    "sources.yml": SOURCES,
    "topics.yml": TOPICS,
    "causes.yml": CAUSES,
    "treatments.yml": TREATMENTS,
    "red_flags.yml": RED_FLAGS,
}


def write_kb(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def broken(file: str, old: str, new: str, files: dict[str, str] | None = None) -> dict[str, str]:
    files = dict(files or GOOD)
    assert old in files[file], f"test setup: {old!r} not in {file}"
    files[file] = files[file].replace(old, new, 1)
    return files


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) >= occurrence, f"test setup: {needle!r} not found"
    return lines[occurrence - 1]


def load_error(directory: Path, files: dict[str, str]) -> KnowledgeBaseError:
    write_kb(directory, files)
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(directory)
    return caught.value


def assert_names(error: KnowledgeBaseError, path: Path, entry: str | None, field: str | None,
                 line: int | None) -> None:
    """The error's attributes and its message say where the problem is."""
    message = str(error)
    assert error.file == str(path)
    assert error.line == line
    assert message.startswith(f"{path}:{line}:" if line else f"{path}:")
    if entry is None:
        assert error.entry is None
    else:
        assert error.entry is not None and error.entry.strip("'") == entry
        assert f"entry '{entry}'" in message
    assert error.field == field
    if field is not None:
        assert f"field '{field}'" in message


def test_minimal_knowledge_base_loads(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path, GOOD))
    assert set(kb.items) == {"definition", "stress", "stress_management"}
    assert [item.id for item in kb.treatments_for("stress")] == ["stress_management"]
    assert [item.id for item in kb.causes_for("stress_management")] == ["stress"]
    assert kb.red_flags["RF01"].level == "emergency"
    assert kb.articles["A"].file == "a.txt"
    assert kb.synonym_index()["anxiety"] == "stress"


def test_two_causes_in_one_file_load(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_kb(tmp_path, {**GOOD, "causes.yml": CAUSES + SECOND_CAUSE}))
    assert [item.id for item in kb.of_kind("cause")] == ["stress", "caffeine"]


@pytest.mark.parametrize("file, item_id, field_name", [
    ("causes.yml", "stress", "short"),
    ("causes.yml", "stress", "gist"),
    ("causes.yml", "stress", "details"),
    ("treatments.yml", "stress_management", "gist"),
    ("topics.yml", "definition", "title"),
    ("red_flags.yml", "RF01", "level"),
])
def test_missing_field(tmp_path: Path, file: str, item_id: str, field_name: str) -> None:
    text = GOOD[file]
    field_line = next(line for line in text.splitlines(keepends=True)
                      if line.strip().startswith(f"{field_name}:"))
    error = load_error(tmp_path, broken(file, field_line, ""))
    assert_names(error, tmp_path / file, item_id, field_name, line_of(text, f"- id: {item_id}"))
    assert "missing" in error.problem


def test_gist_on_a_topic_is_an_unknown_field(tmp_path: Path) -> None:
    # topics are not shown as lists, so they do not need a gist; a gist there is an unknown field
    error = load_error(tmp_path, broken("topics.yml", "    related:", "    gist: a gist\n    related:"))
    assert_names(error, tmp_path / "topics.yml", "definition", "gist", 3)
    assert "not a known field" in error.problem


def test_unknown_id_in_related(tmp_path: Path) -> None:
    error = load_error(tmp_path, broken("causes.yml", "related: [stress_management]",
                                        "related: [stress_managment]"))
    assert_names(error, tmp_path / "causes.yml", "stress", "related", 3)
    assert "unknown id 'stress_managment'" in str(error)


def test_item_relating_to_itself(tmp_path: Path) -> None:
    error = load_error(tmp_path, broken("treatments.yml", "related: [stress]",
                                        "related: [stress, stress_management]"))
    assert_names(error, tmp_path / "treatments.yml", "stress_management", "related", 3)
    assert "itself" in error.problem


def test_duplicate_id_within_a_file(tmp_path: Path) -> None:
    causes = CAUSES + SECOND_CAUSE.replace("id: caffeine", "id: stress")
    error = load_error(tmp_path, {**GOOD, "causes.yml": causes})
    second_line = line_of(causes, "- id: stress", occurrence=2)
    assert_names(error, tmp_path / "causes.yml", "stress", "id", second_line)
    assert "duplicate id 'stress'" in str(error)
    assert f"{tmp_path / 'causes.yml'}:3" in str(error)  # where it was first defined


def test_duplicate_id_across_two_files(tmp_path: Path) -> None:
    more = CAUSES.replace("Stress and anxiety", "Worry").replace("[stress, anxiety]", "[worry]")
    error = load_error(tmp_path, {**GOOD, "more_causes.yml": more})
    assert_names(error, tmp_path / "more_causes.yml", "stress", "id", 3)
    assert "duplicate id 'stress'" in str(error)
    assert f"{tmp_path / 'causes.yml'}:3" in str(error)


@pytest.mark.parametrize("file, old, new, item_id, field_name", [
    ("causes.yml", "synonyms: [stress, anxiety]", "synonyms: stress, anxiety", "stress", "synonyms"),
    ("causes.yml", "synonyms: [stress, anxiety]", "synonyms: []", "stress", "synonyms"),
    ("causes.yml", "synonyms: [stress, anxiety]", "synonyms: [stress, 42]", "stress", "synonyms"),
    ("causes.yml", "related: [stress_management]", "related: stress_management", "stress", "related"),
    ("treatments.yml", "short: Relaxation techniques help. Try deep breathing.",
     "short: [Relaxation techniques help, Try deep breathing]", "stress_management", "short"),
    ("topics.yml", "title: What lip twitching is", "title: ''", "definition", "title"),
    ("causes.yml", "      - {article: A, section: causes}", "      - A", "stress", "sources"),
    ("red_flags.yml", "terms: [face drooping, lopsided smile]", "terms: face drooping",
     "RF01", "terms"),
])
def test_wrong_type(tmp_path: Path, file: str, old: str, new: str, item_id: str, field_name: str) -> None:
    error = load_error(tmp_path, broken(file, old, new))
    assert_names(error, tmp_path / file, item_id, field_name, 3)
    assert "must" in error.problem


@pytest.mark.parametrize("typo, suggestion", [("synonym", "synonyms"), ("see_doctor", "see_doctor_if")])
def test_unknown_field_suggests_the_known_one(tmp_path: Path, typo: str, suggestion: str) -> None:
    error = load_error(tmp_path, broken("causes.yml", "    related:", f"    {typo}: [worry]\n    related:"))
    assert_names(error, tmp_path / "causes.yml", "stress", typo, 3)
    assert "not a known field" in str(error)
    assert f"did you mean '{suggestion}'?" in error.problem


def test_unknown_field_unlike_any_lists_the_known_ones(tmp_path: Path) -> None:
    error = load_error(tmp_path, broken("causes.yml", "    related:", "    zzz: 1\n    related:"))
    assert_names(error, tmp_path / "causes.yml", "stress", "zzz", 3)
    assert "synonyms" in error.problem and "see_doctor_if" in error.problem


def test_misspelt_required_field_is_reported_as_a_typo(tmp_path: Path) -> None:
    error = load_error(tmp_path, broken("causes.yml", "synonyms:", "synonym:"))
    assert_names(error, tmp_path / "causes.yml", "stress", "synonym", 3)
    assert "did you mean 'synonyms'?" in error.problem


@pytest.mark.parametrize("old, new, bad_line", [
    ("title: Stress and anxiety", "title: Stress: and anxiety", 4),
    ("    gist: tension", "   gist: tension", 5),
    ("synonyms: [stress, anxiety]", "synonyms: [stress, anxiety", 7),
])
def test_invalid_yaml_names_the_line(tmp_path: Path, old: str, new: str, bad_line: int) -> None:
    error = load_error(tmp_path, broken("causes.yml", old, new))
    assert_names(error, tmp_path / "causes.yml", None, None, bad_line)
    assert "not valid YAML" in str(error)


def test_duplicate_key_in_one_mapping(tmp_path: Path) -> None:
    files = broken("causes.yml", "    details:", "    short: Another short answer. Twice.\n    details:")
    error = load_error(tmp_path, files)
    assert_names(error, tmp_path / "causes.yml", None, None, line_of(files["causes.yml"], "short:", 2))
    assert "duplicate key 'short'" in str(error)


@pytest.mark.parametrize("level", ["emergancy", "Emergency", "self_care", "high"])
def test_invalid_red_flag_level(tmp_path: Path, level: str) -> None:
    error = load_error(tmp_path, broken("red_flags.yml", "level: emergency", f"level: {level}"))
    assert_names(error, tmp_path / "red_flags.yml", "RF01", "level", 3)
    assert f"'{level}'" in str(error)
    assert "emergency, crisis, urgent, routine" in str(error)


@pytest.mark.parametrize("file, old, new, item_id, phrase, other", [
    # the same synonym on a cause and a treatment: the later item (treatments.yml) is blamed
    ("causes.yml", "[stress, anxiety]", "[stress, anxiety, relaxation]",
     "stress_management", "relaxation", "stress"),
    # equal once normalised (case and punctuation)
    ("causes.yml", "[stress, anxiety]", "[stress, anxiety, Relaxation!]",
     "stress_management", "relaxation", "stress"),
    # a synonym equal to another item's id
    ("treatments.yml", "[relaxation, meditation]", "[relaxation, meditation, stress]",
     "stress_management", "stress", "stress"),
])
def test_same_synonym_on_two_items(tmp_path: Path, file: str, old: str, new: str, item_id: str,
                                   phrase: str, other: str) -> None:
    error = load_error(tmp_path, broken(file, old, new))
    assert_names(error, tmp_path / "treatments.yml", item_id, "synonyms", 3)
    assert f"'{phrase}' also names '{other}'" in str(error)


def test_cause_without_a_related_treatment(tmp_path: Path) -> None:
    error = load_error(tmp_path, broken("causes.yml", "related: [stress_management]", "related: [definition]"))
    assert_names(error, tmp_path / "causes.yml", "stress", "related", 3)
    assert "treatment" in error.problem


def test_source_naming_an_unknown_article(tmp_path: Path) -> None:
    error = load_error(tmp_path, broken("causes.yml", "{article: A, section: causes}",
                                        "{article: C, section: causes}"))
    assert_names(error, tmp_path / "causes.yml", "stress", "sources", 3)
    assert "unknown article 'C'" in str(error)
    assert "known: A" in str(error)


def test_unknown_kind(tmp_path: Path) -> None:
    error = load_error(tmp_path, broken("causes.yml", "kind: cause", "kind: causes"))
    assert_names(error, tmp_path / "causes.yml", None, "kind", None)
    assert "'causes'" in str(error)
    assert "must be one of" in str(error)


def test_empty_items(tmp_path: Path) -> None:
    error = load_error(tmp_path, {**GOOD, "symptoms.yml": "kind: symptom\nitems: []\n"})
    assert_names(error, tmp_path / "symptoms.yml", None, "items", None)


def test_empty_directory(tmp_path: Path) -> None:
    directory = tmp_path / "empty"
    directory.mkdir()
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(directory)
    assert caught.value.file == str(directory)
    assert str(caught.value).startswith(str(directory))
    assert "no *.yml" in str(caught.value)


# --- safety-net questions --------------------------------------------------------------------------------

SAFETY_QUESTIONS = """\
kind: safety_question
items:
  - id: fast
    title: Face, arm or speech
    rows: [RF01]
    terms: [face feels weird]
"""


def test_every_emergency_and_crisis_row_has_one_safety_net_question(kb: KnowledgeBase) -> None:
    asked = [row for question in kb.safety_questions.values() for row in question.rows]
    assert len(asked) == len(set(asked))
    assert {flag.id for flag in kb.red_flags.values() if flag.level in ("emergency", "crisis")} <= set(asked)
    assert kb.question_for("RF22").id == "breathing" and kb.question_for("RF18") is None


def test_a_safety_question_about_an_unknown_row_names_the_entry_and_field(tmp_path: Path) -> None:
    files = {**GOOD, "safety_questions.yml": SAFETY_QUESTIONS.replace("rows: [RF01]", "rows: [RF01, RF99]")}
    error = load_error(tmp_path, files)
    path = tmp_path / "safety_questions.yml"
    assert_names(error, path, "fast", "rows", line_of(files["safety_questions.yml"], "- id: fast"))
    assert "RF99" in str(error)


def test_an_emergency_row_without_a_safety_question_is_refused(tmp_path: Path) -> None:
    second = RED_FLAGS + "  - id: RF02\n    title: Arm weak\n    level: emergency\n    terms: [arm weak]\n"
    error = load_error(tmp_path, {**GOOD, "red_flags.yml": second, "safety_questions.yml": SAFETY_QUESTIONS})
    assert error.entry == "'RF02'" and "needs a safety-net question" in str(error)
