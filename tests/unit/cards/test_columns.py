"""Report layout by display columns: English as textwrap lays it out, Chinese within the page."""

from __future__ import annotations

import textwrap

from cards.columns import pad, width, wrap

ZH = (
    "胰腺神经内分泌肿瘤肝转移患者，若原发灶与肝转移灶分级不一致，按较高分级治疗（共识问题 2）。"
    "Ki-67 指数 > 10 % 时建议行 18F-FDG PET/CT，并与 68Ga-SSA PET/CT 联合评估。"
)


def test_text_without_wide_characters_wraps_exactly_as_textwrap() -> None:
    text = "Multiphasic contrast-enhanced CT of the abdomen and pelvis with chest CT " * 4
    for columns in (20, 57, 100):
        assert wrap(text, columns, subsequent_indent="   ") == textwrap.wrap(
            text, width=columns, subsequent_indent="   "
        )


def test_chinese_counts_two_columns_per_character() -> None:
    assert width("肝转移") == 6
    assert width("Ki-67 指数") == 10
    assert pad("满足", 7) == "满足   "


def test_chinese_text_wraps_within_the_page_and_keeps_every_character() -> None:
    lines = wrap(ZH, 40, initial_indent="  ", subsequent_indent="    ")
    assert all(width(line) <= 40 for line in lines), lines
    assert "".join(line.strip() for line in lines).replace(" ", "") == ZH.replace(" ", "")
    assert not any(line.strip()[0] in "，。；：）" for line in lines)
    assert "18F-FDG" in "".join(lines)  # a Latin word is never split
