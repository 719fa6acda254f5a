"""A process's ``notifications.json`` is checked when its draft is validated and deployed.

Every kind of bad input is a problem naming the file, the message kind and the field, explained in Chinese and in
English; a draft whose texts try to reach past the sandbox is refused at deploy and nothing is deployed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.deployments import read_models
from engine.models import Deployment
from processes.modeling import service as modeling
from processes.modeling.models import ProcessDraft
from processes.notifications import process_texts
from processes.platform import Platform
from processes.templates.catalog import TEMPLATES_DIR, template_files

FILE = "notifications.json"
GOOD = {"subject": "新工单 {{ ticket }}", "body": "{{ customer }}：{{ problem }}"}
GOOD_EN = {"subject": "New job {{ ticket }}", "body": "{{ customer }}: {{ problem }}"}


def lifecycle_with(platform: Platform, texts: object) -> dict[str, str]:
    """The shipped lifecycle's files with ``texts`` as its notifications.json (JSON text unless already text)."""
    files = read_models(platform.settings.models_dir)
    files[FILE] = texts if isinstance(texts, str) else json.dumps(texts, ensure_ascii=False)
    return files


def text_problems(platform: Platform, texts: object, locale: str = "en") -> list[modeling.ProblemView]:
    found = modeling.validate(platform.engine, lifecycle_with(platform, texts), locale)
    assert all(p.file == FILE for p in found), [p.as_json() for p in found]  # the diagram itself is fine
    return found


def only(found: list[modeling.ProblemView]) -> modeling.ProblemView:
    assert len(found) == 1, [p.as_json() for p in found]
    return found[0]


def test_good_texts_and_no_file_are_no_problem(bare_platform: Platform) -> None:
    assert text_problems(bare_platform, {"job_offered": {"zh": GOOD, "en": GOOD_EN}}) == []
    assert modeling.validate(bare_platform.engine, read_models(bare_platform.settings.models_dir)) == []


def test_the_shipped_template_carries_valid_texts_in_both_languages(bare_platform: Platform) -> None:
    files = template_files("plant_lifecycle")
    assert FILE in files and (TEMPLATES_DIR / "plant_lifecycle" / FILE).is_file()
    assert modeling.validate(bare_platform.engine, files) == []
    texts = process_texts.parsed(files[FILE])
    kinds = {kind for kind, _locale in texts}
    assert len(kinds) >= 3
    assert all((kind, locale) in texts for kind in kinds for locale in ("zh_Hans", "en"))


@pytest.mark.parametrize(
    ("texts", "kind", "field", "code", "en", "zh"),
    [
        ("{not json", "", "", "text_bad_file", "not valid JSON (line 1, column 2)", "不是有效的 JSON"),
        ('["job_offered"]', "", "", "text_bad_file", "object of message kinds", "以消息类型为键的对象"),
        (
            {"job_offered": {"zh": {"subject": {"deep": ["x"]}, "body": "b"}, "en": GOOD_EN}},
            "",
            "",
            "text_bad_file",
            "object of message kinds",
            "以消息类型为键的对象",
        ),
        ({"job_offerd": {"zh": GOOD, "en": GOOD_EN}}, "job_offerd", "", "text_unknown_kind", "job_offered", "未知"),
        ({"job_offered": "hello"}, "job_offered", "", "text_bad_file", "object with zh and en", "zh 和 en"),
        ({"job_offered": {"zh": GOOD}}, "job_offered", "en", "text_missing_language", "missing", "缺少"),
        ({"job_offered": {"en": GOOD_EN}}, "job_offered", "zh", "text_missing_language", "missing", "缺少"),
        (
            {"job_offered": {"zh": GOOD, "en": GOOD_EN, "fr": GOOD_EN}},
            "job_offered",
            "fr",
            "text_unknown_language",
            "use zh and en",
            "未知的语言",
        ),
        ({"job_offered": {"zh": "文本", "en": GOOD_EN}}, "job_offered", "zh", "text_bad_file", "subject", "主题"),
        (
            {"job_offered": {"zh": {"subject": "主题"}, "en": GOOD_EN}},
            "job_offered",
            "zh.body",
            "text_missing",
            "needs a subject and a body",
            "缺失",
        ),
        (
            {"job_offered": {"zh": GOOD, "en": {**GOOD_EN, "footer": "x"}}},
            "job_offered",
            "en.footer",
            "text_unknown_field",
            "unknown field",
            "未知的字段",
        ),
        (
            {"job_offered": {"zh": GOOD, "en": {"subject": "New job {% if ticket %}", "body": "b"}}},
            "job_offered",
            "en.subject",
            "text_refused",
            "syntax error",
            "语法错误",
        ),
        (
            {"job_offered": {"zh": {"subject": "{{ reason }}", "body": "b"}, "en": GOOD_EN}},
            "job_offered",
            "zh.subject",
            "text_refused",
            "unknown variable reason",
            "未知变量 reason",
        ),
        (
            {"job_offered": {"zh": GOOD, "en": {"subject": "s", "body": "  "}}},
            "job_offered",
            "en.body",
            "text_refused",
            "the text is empty",
            "第 1 行",
        ),
        (
            {"job_offered": {"zh": GOOD, "en": {"subject": "s", "body": "{{ ticket | wordcount }}"}}},
            "job_offered",
            "en.body",
            "text_refused",
            "unknown filter wordcount",
            "wordcount",
        ),
    ],
)
def test_each_kind_of_bad_text_is_a_problem_naming_file_kind_and_field_in_both_languages(
    bare_platform: Platform, texts: object, kind: str, field: str, code: str, en: str, zh: str
) -> None:
    problem = only(text_problems(bare_platform, texts, "en"))
    assert (problem.file, problem.element_id, problem.element_name, problem.code) == (FILE, kind, field, code)
    assert en in problem.reason and problem.element_type == "notification text"
    chinese = only(text_problems(bare_platform, texts, "zh_Hans"))
    assert zh in chinese.reason and chinese.element_type == "通知文本"
    assert chinese.reason != problem.reason


def test_several_problems_are_all_listed_with_the_diagrams_own(bare_platform: Platform) -> None:
    files = lifecycle_with(bare_platform, {"urgent_ticket": {"zh": GOOD}, "nope": {}})
    files["lanes.json"] = "[]"  # a problem of the deployment itself
    found = modeling.validate(bare_platform.engine, files)
    assert {(p.file, p.element_id, p.code) for p in found} >= {
        (FILE, "urgent_ticket", "text_missing_language"),
        (FILE, "nope", "text_unknown_kind"),
        ("lanes.json", "", "bad_lanes"),
    }


def test_a_file_too_large_is_refused_before_it_is_read(bare_platform: Platform) -> None:
    texts = json.dumps({"job_offered": {"zh": GOOD, "en": {**GOOD_EN, "body": "x" * (process_texts.MAX_CHARS + 1)}}})
    problem = only(text_problems(bare_platform, texts))
    assert problem.code == "text_bad_file" and str(process_texts.MAX_CHARS) in problem.reason


# Texts that try to leave the sandbox, waste a worker or smuggle code; each must be refused at deploy.
ATTACKS = [
    "{{ ticket.__class__.__mro__ }}",
    "{{ ticket['__class__'] }}",
    "{{ ticket | attr('__class__') }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ config }}",
    "{{ request }}",
    "{{ range(10**9) | length }}",
    "{{ 9 ** 999999 }}",
    "{{ 'x' * 1000000000 }}",
    "{{ '%s%s' % (ticket, ticket) }}",
    "{{ ticket.format(ticket) }}",
    "{{ '{0.__class__}'.format(ticket) }}",
    "{% for i in customer %}{{ i }}{% endfor %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% set x = ticket %}{{ x }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends 'base.html' %}",
    "{% block b %}x{% endblock %}",
    "{{ __import__('os').system('id') }}",
    "{{ -ticket }}",
    "{{ ticket | map('upper') | list }}",
]


def test_sandbox_attacks_in_the_texts_are_refused_at_validation(bare_platform: Platform) -> None:
    for attack in ATTACKS:
        texts = {"job_offered": {"zh": GOOD, "en": {"subject": "s", "body": attack}}}
        problem = only(text_problems(bare_platform, texts))
        assert (problem.element_id, problem.element_name, problem.code) == ("job_offered", "en.body", "text_refused")


def test_a_draft_whose_texts_attack_the_sandbox_is_not_deployed(bare_platform: Platform) -> None:
    platform = bare_platform
    with platform.db.session() as session:
        before = session.scalar(select(func.count()).select_from(Deployment))
        draft = modeling.start_draft(session, platform.engine, "ticket_lifecycle", "owner")
        attack = {"subject": "{{ ticket.__class__.__mro__[1].__subclasses__() }}", "body": "b"}
        modeling.save_draft(
            session, platform.engine, draft.id, {FILE: json.dumps({"job_offered": {"zh": GOOD, "en": attack}})}, "owner"
        )
        draft_id = draft.id
    with platform.db.session() as session, pytest.raises(modeling.DeployRefused) as refused:
        modeling.deploy_draft(session, platform.engine, draft_id, "owner", "new texts", "zh_Hans")
    (problem,) = refused.value.found
    assert (problem.file, problem.element_id, problem.element_name) == (FILE, "job_offered", "en.subject")
    assert "不允许" in problem.reason
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Deployment)) == before
        assert session.get(ProcessDraft, draft_id) is not None  # the draft is kept to be fixed


def test_good_texts_deploy_with_the_draft(bare_platform: Platform) -> None:
    platform = bare_platform
    texts: dict[str, Any] = {"job_offered": {"zh": GOOD, "en": GOOD_EN}}
    with platform.db.session() as session:
        draft = modeling.start_draft(session, platform.engine, "ticket_lifecycle", "owner")
        modeling.save_draft(session, platform.engine, draft.id, {FILE: json.dumps(texts)}, "owner")
        deployment = modeling.deploy_draft(session, platform.engine, draft.id, "owner", "our own words")
        assert json.loads(deployment.files[FILE]) == texts
