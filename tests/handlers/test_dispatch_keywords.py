import jieba
import pytest

from handlers.dispatch import GeoPoint, JobSkillResolver, KeywordMatcher, Ticket

MAPPING = {
    "主轴异响": ["spindle"],
    "液压": ["hydraulic valve block"],
    "主轴": ["spindle"],
    "冷却液泄漏": ["coolant system"],
    "spindle noise": ["spindle"],
    "oil": ["lubrication"],
    "Siemens 840D": ["Siemens 840D"],
    "FANUC报警": ["FANUC"],
}


@pytest.fixture(scope="module")
def matcher():
    return KeywordMatcher(MAPPING)


def found(matcher, text):
    return [hit.keyword for hit in matcher.find(text)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("今天主轴异响很严重", ["主轴异响", "主轴"]),
        ("液压站压力不足", ["液压"]),  # inside one segmented word: 液压站 is a hydraulic unit
        ("冷却液泄漏，地面有水", ["冷却液泄漏"]),
        ("数控车床主轴异响，液压系统报警", ["主轴异响", "液压", "主轴"]),
    ],
)
def test_chinese_keywords(matcher, text, expected):
    assert sorted(found(matcher, text)) == sorted(expected)


def test_chinese_keyword_must_not_straddle_a_word(matcher):
    # jieba reads 主轴承 as 主|轴承 (main bearing): 主轴 (spindle) would cut through 轴承
    assert [t.text for t in matcher.tokenize("主轴承损坏")][:2] == ["主", "轴承"]
    assert found(matcher, "主轴承损坏") == []


def test_punctuation_breaks_a_phrase(matcher):
    assert "主轴异响" not in found(matcher, "主轴，异响")
    assert found(matcher, "spindle, noise") == []


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Loud SPINDLE NOISE on the lathe", ["spindle noise"]),
        ("spindle noise", ["spindle noise"]),
        ("Oil leak at the gearbox", ["oil"]),
        ("boiling coolant", []),  # whole words only: no "oil" in "boiling"
        ("noise from spindle", []),  # word order matters
        ("siemens   840d alarm 25000", ["Siemens 840D"]),
        ("ＳＩＥＭＥＮＳ ８４０Ｄ", ["Siemens 840D"]),  # full-width input is normalised
        ("FANUC 报警 401", ["FANUC报警"]),  # mixed script, space between scripts ignored
    ],
)
def test_english_and_mixed_keywords(matcher, text, expected):
    assert found(matcher, text) == expected


def test_english_tokens_are_lowercase_words(matcher):
    assert [t.text for t in matcher.tokenize("Spindle-Noise, 840D!")] == ["spindle", "noise", "840d"]


def test_managed_chinese_keyword_is_one_token_without_touching_global_jieba():
    own = KeywordMatcher({"阀块漏油": ["hydraulic valve block"], "主轴异响": ["spindle"]})
    other = KeywordMatcher({"spindle": ["spindle"]})
    assert [t.text for t in own.tokenize("阀块漏油")] == ["阀块漏油"]
    assert [t.text for t in own.tokenize("主轴异响")] == ["主轴异响"]
    # neither a matcher built from another mapping nor jieba's global tokenizer learnt these words
    assert [t.text for t in other.tokenize("阀块漏油")] != ["阀块漏油"]
    assert [t.text for t in other.tokenize("主轴异响")] != ["主轴异响"]
    assert jieba.lcut("主轴异响", HMM=False) != ["主轴异响"]
    assert other.find("阀块漏油") == []


def test_spellings_differing_in_case_merge_their_skills():
    matcher = KeywordMatcher({"Spindle Noise": ["spindle"], "spindle  noise": ["bearing"]})
    assert [(h.keyword, h.skills) for h in matcher.find("spindle noise")] == [("Spindle Noise", ("spindle", "bearing"))]


def test_keyword_without_words_is_rejected():
    with pytest.raises(ValueError, match="keyword"):
        KeywordMatcher({"!!": ["spindle"]})


def test_resolver_combines_device_and_fault_skills():
    resolver = JobSkillResolver(MAPPING, {"FANUC CNC lathe": ["FANUC"], "hydraulic press": ["hydraulic valve block"]})
    job = resolver.resolve(
        Ticket("T1", GeoPoint(31.3, 120.6), device_type="  fanuc   cnc LATHE ", description="客户反映主轴异响")
    )
    assert job.device_type_known
    assert job.device_skills == ("FANUC",)
    assert job.fault_skills == ("spindle",)
    assert job.scored_skills == ("FANUC", "spindle")
    assert [h.keyword for h in job.keyword_hits] == ["主轴异响", "主轴"]


def test_resolver_unknown_device_and_explicit_keywords():
    resolver = JobSkillResolver(MAPPING, {})
    job = resolver.resolve(
        Ticket("T1", GeoPoint(31.3, 120.6), device_type="laser cutter", keywords=("spindle", "noise", "液压"))
    )
    assert not job.device_type_known and job.device_skills == ()
    # explicit keywords are matched one by one: "spindle" + "noise" do not fuse into "spindle noise"
    assert job.fault_skills == ("hydraulic valve block",)
