"""Chinese vocabularies for the demo subdistrict: names, roads, IDs, phones, incident texts.

Everything here is pure and deterministic given a ``numpy.random.Generator``; nothing reads the
clock or the environment. Used by :mod:`demo.generate`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = [
    "committee",
    "SURNAMES",
    "CHINESE_NUMERALS",
    "chinese_numeral",
    "person_names",
    "mobile_numbers",
    "id_check_digit",
    "id_numbers",
    "ROADS",
    "ORGANISATIONS",
    "INCIDENT_TEMPLATES",
    "EVENT_NOTES",
    "VISIT_NOTES",
]

#: Common surnames, weighted towards those frequent in Hunan (李, 刘, 陈, 王, 彭, 谭, 唐, 易...).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("李", 7.5), ("刘", 7.0), ("陈", 6.5), ("王", 6.0), ("张", 5.0), ("彭", 3.5), ("周", 3.5),
    ("黄", 3.2), ("谭", 3.0), ("唐", 3.0), ("罗", 3.0), ("杨", 2.8), ("胡", 2.6), ("邓", 2.4),
    ("易", 2.2), ("曾", 2.2), ("吴", 2.0), ("欧阳", 1.2), ("肖", 1.8), ("龙", 1.5), ("蒋", 1.5),
    ("何", 1.5), ("许", 1.4), ("文", 1.4), ("付", 1.2), ("姚", 1.2), ("钟", 1.2), ("汤", 1.1),
    ("廖", 1.1), ("毛", 1.0), ("任", 1.0), ("方", 1.0), ("袁", 1.0), ("徐", 1.0), ("朱", 1.0),
    ("孙", 0.9), ("宋", 0.9), ("郭", 0.9), ("赵", 0.9), ("贺", 0.9), ("雷", 0.8), ("熊", 0.8),
    ("夏", 0.8), ("卢", 0.8), ("邹", 0.8), ("严", 0.7), ("黎", 0.7), ("万", 0.7), ("田", 0.7),
    ("颜", 0.6), ("符", 0.6), ("喻", 0.6), ("向", 0.6), ("戴", 0.6), ("尹", 0.5), ("皮", 0.4),
)

_MALE_CHARS = "伟强军勇杰斌涛明辉华建国志兵平刚林波峰鹏飞俊磊超宇浩轩博文武德清海龙春生荣富贵新"
_FEMALE_CHARS = "芳丽娟敏静霞艳玲燕红梅兰英秀珍凤琴萍慧婷雪倩颖洁琳莉娜晶欣怡佳雨桂菊蓉霖"
_NEUTRAL_CHARS = "子晓思嘉宏永安宁云小春秋立新正红金玉家"

#: Chinese numerals 1..20 used in grid names (第一网格 ...).
CHINESE_NUMERALS = ("零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")


def chinese_numeral(n: int) -> str:
    """Chinese numeral for 1..99 (``7`` → ``七``, ``12`` → ``十二``, ``25`` → ``二十五``)."""
    if not 1 <= n <= 99:
        raise ValueError(f"n was {n} but is expected to be in 1..99")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return CHINESE_NUMERALS[ones]
    head = "" if tens == 1 else CHINESE_NUMERALS[tens]
    return head + "十" + (CHINESE_NUMERALS[ones] if ones else "")


def person_names(rng: np.random.Generator, genders: np.ndarray) -> list[str]:
    """One Chinese full name per entry of ``genders`` (``'男'`` / ``'女'``).

    Surnames are drawn by frequency; given names have one (30%) or two characters drawn from
    gendered and neutral character sets.
    """
    genders = np.asarray(genders)
    n = len(genders)
    surnames = np.array([s for s, _ in SURNAMES])
    weights = np.array([w for _, w in SURNAMES], dtype=float)
    picked = surnames[rng.choice(len(surnames), size=n, p=weights / weights.sum())]
    male = np.array(list(_MALE_CHARS))
    female = np.array(list(_FEMALE_CHARS))
    neutral = np.array(list(_NEUTRAL_CHARS))
    first = np.where(
        rng.random(n) < 0.35,
        neutral[rng.integers(0, len(neutral), n)],
        np.where(genders == "男", male[rng.integers(0, len(male), n)], female[rng.integers(0, len(female), n)]),
    )
    second = np.where(genders == "男", male[rng.integers(0, len(male), n)], female[rng.integers(0, len(female), n)])
    single = rng.random(n) < 0.3
    return [s + (b if one else a + b) for s, a, b, one in zip(picked, first, second, single, strict=True)]


_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "173", "176", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
)


def mobile_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` 11-digit mainland mobile numbers (valid 13x/15x/17x/18x/19x prefixes)."""
    prefixes = np.array(_MOBILE_PREFIXES)[rng.integers(0, len(_MOBILE_PREFIXES), n)]
    rest = rng.integers(0, 100_000_000, n)
    return [f"{p}{r:08d}" for p, r in zip(prefixes, rest, strict=True)]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) of the first 17 ID digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"first17 was {first17!r} but is expected to be 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_numbers(
    rng: np.random.Generator, birth_dates: list[dt.date], genders: np.ndarray, *, region: str = "430603"
) -> list[str]:
    """Unique 18-digit resident identity numbers.

    Layout: 6-digit region code, birth date ``YYYYMMDD``, 3-digit sequence (odd for men, even
    for women), check character. Collisions are resolved by stepping the sequence by 2.
    """
    genders = np.asarray(genders)
    seq = rng.integers(0, 500, len(birth_dates)) * 2 + np.where(genders == "男", 1, 0)
    taken: set[str] = set()
    out: list[str] = []
    for birth, s in zip(birth_dates, seq, strict=True):
        s = int(s)
        while True:
            first17 = f"{region}{birth:%Y%m%d}{s % 1000:03d}"
            if first17 not in taken:
                break
            s += 2
        taken.add(first17)
        out.append(first17 + id_check_digit(first17))
    return out


#: Road names per community (level-1 code suffix → roads); villages use 组 numbering instead.
ROADS: dict[str, tuple[str, ...]] = {
    "杨树港社区": ("杨树港路", "云港路", "长岭路", "建设北路", "港湾巷"),
    "擂鼓台社区": ("擂鼓台路", "云溪大道", "文化路", "工农路", "鼓楼巷"),
    "菱泊湖社区": ("菱泊湖路", "松阳路", "湖滨西路", "新港路", "荷花巷"),
    "茅岭头社区": ("茅岭路", "巴陵东路", "永济路", "建设南路", "茅岭巷"),
}

#: Organisations by role (``{community}`` is the level-1 grid's name; grid heads and building
#: heads belong to their community's residents' or villagers' committee).
ORGANISATIONS: dict[str, str] = {
    "liaison_leader": "松杨湖街道办事处",
    "micro_worker": "{community}网格工作站",
    "grid_police": "岳阳市公安局云溪分局松杨湖派出所",
    "family_doctor": "松杨湖街道社区卫生服务中心",
    "supervisor": "松杨湖街道纪工委",
    "coordinator": "松杨湖街道综治中心",
}

def committee(community: str) -> str:
    """The committee of a community (社区 → 居民委员会) or village (村 → 村民委员会)."""
    return f"{community}{'居民委员会' if community.endswith('社区') else '村民委员会'}"


#: Description templates per incident category (codes of :data:`governance.vocab.INCIDENT_CATEGORIES`);
#: ``{place}`` is filled with a place name.
INCIDENT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "sanitation": (
        "{place}垃圾堆积未及时清运，散发异味",
        "{place}生活污水外溢，路面脏乱",
        "{place}占道堆放杂物，影响环境卫生",
        "{place}绿化带内乱扔垃圾",
        "{place}公厕卫生差，群众反映强烈",
    ),
    "dispute": (
        "{place}邻里因漏水问题发生纠纷",
        "{place}两户居民因停车位发生争执",
        "{place}家庭赡养纠纷，需调解",
        "{place}土地边界纠纷",
        "{place}装修噪音引发邻里矛盾",
    ),
    "safety_hazard": (
        "{place}电动车楼道内充电，存在火灾隐患",
        "{place}消防通道被占用",
        "{place}燃气管道老化有泄漏风险",
        "{place}围墙开裂有倒塌风险",
        "{place}私拉电线，存在安全隐患",
    ),
    "illegal_construction": (
        "{place}擅自加建彩钢棚",
        "{place}违规占用公共绿地搭建菜园",
        "{place}未批先建农房",
        "{place}屋顶违规加层",
    ),
    "municipal": (
        "{place}路灯损坏不亮",
        "{place}窨井盖缺失",
        "{place}路面破损坑洼积水",
        "{place}下水道堵塞",
        "{place}雨污管网破损",
    ),
    "public_order": (
        "{place}夜间聚众喧哗影响休息",
        "{place}流动摊贩占道经营",
        "{place}发现可疑人员多次出入",
        "{place}车辆乱停乱放堵塞通道",
    ),
    "livelihood": (
        "{place}独居老人需要上门帮扶",
        "{place}居民咨询医保缴费事宜",
        "{place}困难家庭申请临时救助",
        "{place}停水未提前通知，居民求助",
        "{place}留守儿童课后无人照看",
    ),
}

#: Note text per workflow action (``report`` and :data:`governance.workflow.ACTIONS`; ``{name}`` = the assignee).
EVENT_NOTES: dict[str, tuple[str, ...]] = {
    "report": ("网格员巡查发现上报", "居民反映，网格员核实后上报", "网格员走访中发现"),
    "accept": ("经核实情况属实，予以受理", "已核实，受理"),
    "reject": ("经核实不属实，不予受理", "不属于受理范围，已向群众解释", "重复上报，已合并处理"),
    "classify": ("分类处置", "按处置类别分类"),
    "dispatch": ("派遣至{name}办理", "交{name}限时办理"),
    "handle": ("已处置完毕，现场整改到位", "已协调相关部门处理", "已向当事人解释答复"),
    "close": ("回访群众满意，予以办结", "核查通过，办结"),
    "reopen": ("回访群众不满意，重新派遣办理", "复核发现问题反弹，重新办理"),
}

#: Visit notes per kind (codes of :data:`governance.vocab.VISIT_KINDS`).
VISIT_NOTES: dict[str, tuple[str, ...]] = {
    "routine": ("日常走访，情况正常", "宣传防诈骗知识", "了解家庭近况", "宣传消防安全"),
    "special": ("关爱走访，身体状况良好", "送去慰问品，了解需求", "协助办理相关补贴", "叮嘱注意安全"),
    "data_refresh": ("核实更新家庭人口信息", "更新房屋及人口信息", "季度信息核查"),
}
