"""The pages' ranking charts (app_pages.charts): horizontal, sorted by value, labels never cut (issue #13.3/6)."""

from __future__ import annotations

from app_pages.charts import ROW_PX, ranked_bars_chart

LONG = "擂鼓台社区第一网格第二片区2号微网格 430603003002001002"


def test_bars_are_horizontal_sorted_by_value_with_whole_labels() -> None:
    labels = [LONG, "短 1", "中等长度的网格名称 430603003002001003"]
    spec = ranked_bars_chart(labels, [3, 9, 5], value_title="未办结", label_title="网格").to_dict()
    enc = spec["encoding"]
    assert spec["mark"]["type"] == "bar"
    assert enc["x"]["field"] == "value" and enc["x"]["type"] == "quantitative"  # value along x: bars lie flat
    assert enc["y"]["field"] == "label" and enc["y"]["sort"] == "-x"  # largest on top
    assert enc["y"]["axis"]["labelLimit"] == 0 and enc["y"]["axis"]["labelOverlap"] is False  # never cut or hidden
    assert enc["x"]["title"] == "未办结" and [t["title"] for t in enc["tooltip"]] == ["网格", "未办结"]
    assert spec["height"] >= ROW_PX * len(labels)
    values = next(iter(spec["datasets"].values()))
    assert [row["label"] for row in values] == labels and [row["value"] for row in values] == [3, 9, 5]
