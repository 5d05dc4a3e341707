"""Word lists shared by several rules, kept in one place so the rules cannot drift apart.

Example: the safety words make a complaint P1, count as alarm for the emotion level and
point the classifier to product_quality.safety_hazard; listing them once keeps the three
decisions consistent.
"""

from __future__ import annotations

from routing.triage.domain.matching import Lexicon

# §4: a safety hazard is P1. "smoke alarm" or "fire extinguisher" name a product, not a
# hazard, hence the look-aheads. "burnt" alone is a smell, not a hazard.
SAFETY = Lexicon(
    (
        # 打不着火 / 点不着火 is a stove that will not light: a defect, not a fire.
        "漏电",
        "触电",
        "被电到",
        "起火",
        "(?<![不没])着火",
        "失火",
        "爆炸",
        "炸裂",
        "受伤",
        "冒烟",
        "烫伤",
        "烧伤",
        "割伤",
        "划伤",
        "自燃",
        "漏气",
        "燃气泄漏",
        "煤气泄漏",
        "安全隐患",
        "冒火花",
        "(冒|打|出)(出)?火星",
        "火星四溅",
        "烫(起|出)(了)?(泡|水泡)",
        "(燃气|煤气|天然气)味",
        "中毒",
        r"electric(al)? shock",
        r"electrocut(ed|ion)",
        r"shocked me",
        r"shocks? (me|him|her|us|my \w+)",
        r"(smell|smells|smelled|smelt) (of )?gas",
        r"gas smell",
        r"cut (my|his|her|our|their) (\w+'s )?"
        r"(arms?|hands?|fingers?|legs?|gums?|lips?|mouth|foot|feet|face|skin|head)",
        r"fire(?! (alarm|extinguisher|door|tv|stick))",
        r"caught fire",
        r"smoke(?! (alarm|detector))",
        r"explod(e|ed|es|ing)",
        r"explosion",
        r"injur(y|ies|ed)",
        r"burn(ed|t|s)? (me|my|him|her|his|our)",
        r"sparks",
        r"sparking",
        r"safety hazard",
        r"gas leak",
        r"hazardous",
    )
)

# Data / privacy leak words. 泄露 is the written form for information; 泄漏 usually means
# gas or water and only counts next to an information word.
PRIVACY_LEAK = Lexicon(
    (
        "泄露",
        "(信息|隐私|数据|资料|号码|住址)[^,。!?]{0,4}泄漏",
        "泄漏[^,。!?]{0,4}(信息|隐私|数据|资料)",
        "外泄",
        "倒卖[^,。!?]{0,6}(信息|数据|资料)",
        "卖了我的",
        "信息被盗",
        "数据被盗",
        r"data (leak|breach)(es)?",
        r"privacy (leak|breach|violation)",
        r"leak(ed|ing|s)? (my|our|customer|customers'?|personal)",
        r"(data|information|details|address|phone number|number|e-?mail( address)?) "
        r"(was|were|has been|have been|got) (leaked|exposed|sold|stolen)",
        r"sold my (personal )?(data|information|details|number)",
    )
)

# Threats to go public, to a regulator or to court: a raise rule (§4) and red emotion.
THREATS = Lexicon(
    (
        "曝光",
        "媒体",
        "12315",
        "消协",
        "消费者协会",
        "律师",
        "起诉",
        "打官司",
        "法院",
        "记者",
        "电视台",
        "报警",
        "市场监管",
        "黑猫投诉",
        # "投诉到现在/底" means "complained until now / to the end", not "report to X".
        "投诉到(?!现在|目前|今|底|了)",
        r"lawyers?",
        r"attorneys?",
        r"sue",
        r"suing",
        r"lawsuit",
        r"legal action",
        r"small claims",
        r"court",
        r"regulators?",
        r"regulatory",
        r"ombudsman",
        r"the press",
        r"journalists?",
        r"newspapers?",
        r"the media",
        r"social media",
        r"news media",
        r"go public",
        r"trading standards",
        r"consumer protection",
    )
)
# Naming a public platform is a raise (§4 lists 微博) but on its own not yet a threat.
PUBLIC_PLATFORMS = Lexicon(("微博", "抖音", "小红书", r"twitter", r"weibo"))
MEDIA_LEGAL = THREATS + PUBLIC_PLATFORMS

# Strong negative words: two points of emotional intensity each.
NEGATIVE_STRONG = Lexicon(
    (
        "恶劣",
        "非常差",
        "太差",
        "很差",
        "极差",
        "差劲",
        "垃圾",
        "骗子",
        "欺骗",
        "诈骗",
        "坑人",
        "黑心",
        "气死",
        "愤怒",
        "无法接受",
        "不可接受",
        "忍无可忍",
        "恶心",
        "无耻",
        "呵斥",
        "辱骂",
        "骂人",
        "过分",
        "岂有此理",
        "离谱",
        "霸王条款",
        "欺负",
        r"terrible",
        r"horrible",
        r"awful",
        r"disgusting",
        r"disgraceful",
        r"outrageous",
        r"unacceptable",
        r"ridiculous",
        r"scam",
        r"fraud",
        r"furious",
        r"worst",
        r"pathetic",
        r"useless",
        r"appalling",
        r"rude",
        r"angry",
        r"fed up",
        r"sick of",
        r"shameful",
    )
)

# Mild irritation: impatience or disappointment, never more than yellow on its own.
# 麻烦 is deliberately absent: in a single message it is mostly the polite "please".
NEGATIVE_MILD = Lexicon(
    (
        "太久",
        "迟迟",
        "还没",
        "还未",
        "仍未",
        "仍然没",
        "一直没",
        "一直不",
        "至今",
        "到现在",
        "打不通",
        "没人理",
        "没人管",
        "没人回",
        "无人回复",
        "无人处理",
        "无人接听",
        "不符",
        "不一致",
        "失望",
        "不满",
        "根本没",
        "根本不",
        "又一次",
        "又是",
        "再次",
        "多次",
        "反复",
        "好几次",
        "等了",
        "催了",
        "拖延",
        "一拖再拖",
        "敷衍",
        r"still",
        r"again",
        r"(nobody|no one|no-one) (answers|answered|replies|replied|"
        r"responds|responded|calls back|called back|helps|cares)",
        r"no (reply|response|answer)",
        r"not happy",
        r"disappoint(ed|ing)",
        r"frustrat(ed|ing)",
        r"annoy(ed|ing)",
        r"several times",
        r"repeatedly",
        r"yet to",
        r"too long",
        r"so long",
        r"for (weeks|days|months)",
        r"keep (waiting|asking|calling)",
    )
)

# Markers of a query or a suggestion (§4: P4). Only "pure" when no complaint signal
# is present as well; see priority.py.
QUERY_MARKERS = Lexicon(
    (
        "建议",
        "请问",
        "咨询",
        "能否",
        "能不能",
        "可不可以",
        "是否可以",
        "是否能",
        "可以吗",
        "想问",
        "想了解",
        "如何",
        "希望(能|可以)?增加",
        "怎么(办理|申请|操作|设置|使用|查询|开通|修改|取消|选择|预约)",
        r"could you (please )?tell me",
        r"can you (please )?tell me",
        r"suggest(s|ed|ion|ions)?",
        r"questions?",
        r"how (do|can|should) (i|we)",
        r"is it possible",
        r"would it be possible",
        r"i(('d| would) like| want) to know",
        r"wondering",
        r"please advise",
        r"feature request",
        r"it would be (nice|great|helpful|good)",
        r"please consider",
        r"(inquiry|enquiry)",
        r"do you (offer|have|ship|sell|deliver)",
    )
)

# Words that say something went wrong. With any of these (or any emotion word) a
# question is a complaint in disguise ("请问我的快递怎么还没到") and not a pure query.
PROBLEM_WORDS = Lexicon(
    (
        "投诉",
        "差评",
        "坏了",
        "坏掉",
        "故障",
        "质量问题",
        "没收到",
        "没有收到",
        "未收到",
        "丢件",
        "丢失",
        "破损",
        "损坏",
        "多扣",
        "多收",
        "乱收费",
        "扣了",
        "骗",
        "失败",
        "错误",
        "不能用",
        "用不了",
        "没法用",
        "闪退",
        "赔偿",
        "退款未",
        "发错",
        r"complain(t|ts|ed|ing)?",
        r"broken",
        r"broke",
        r"damaged",
        r"defective",
        r"faulty",
        r"missing",
        r"lost",
        r"never (arrived|came|received)",
        r"not (received|delivered)",
        r"(did not|didn't|has not|hasn't) (arrive|arrived|receive|get)",
        r"wrong",
        r"overcharg(e|ed|ing)",
        r"charged (me )?twice",
        r"compensation",
        r"crash(es|ed)?",
        r"errors?",
        r"(does not|doesn't|did not|didn't) work",
        r"not working",
        r"stopped working",
    )
)
