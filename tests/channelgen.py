"""Seeded generator of Chinese multi-channel customer exports with ground truth, written independently of
the product (it does not read governance.synth, the standardizers or the OneID code) from how real
platform exports look: a WeChat mini-program member list, an official-account fan list, Douyin leads,
Tmall orders (GBK CSV, buyer != receiver for gifts), a store POS member sheet (.xlsx with a title row),
a CRM extract and customer-service tickets.

    from channelgen import generate
    files = generate(3000, seed=7, out_dir=Path("/tmp/ch"))   # + /tmp/ch/truth.csv

`truth.csv` has file, row_number (1-based data row, the header not counted) and person_id. For an order
shipped to someone else (a gift), the row belongs to the BUYER; the receiver columns hold the other person.

Realism on purpose: household members sharing one phone (different people), very common names shared by
different people, pinyin and traditional-character names, homophone typos, one-digit phone typos,
+86/separators/apostrophes in phones, masked phones (138****5530), placeholder phones typed by clerks
(13800138000), placeholders (无/未知/-), generic nicknames (微信用户), changed and second phones, IP-location
regions that differ from home, month-day-only birthdays, staff-name columns (导购/处理人) that are not the
customer, and numeric order/lead/ticket numbers that are not person ids.

`ROLES` maps every header this module can write to the role of its values (used by the benchmark to read
the raw files for baselines and diagnosis; the product never sees it).
"""
from __future__ import annotations

import csv
import random
import re
import string
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# reference pools
# ---------------------------------------------------------------------------------------------

_SURNAMES = """王wang71 李li70 张zhang67 刘liu54 陈chen45 杨yang31 黄huang22 赵zhao21 吴wu20 周zhou19 徐xu17 孙sun15
马ma14 朱zhu13 胡hu13 郭guo11 何he11 高gao10 林lin10 罗luo9 郑zheng9 梁liang9 谢xie8 宋song7 唐tang7 许xu6 韩han6
冯feng6 邓deng6 曹cao6 彭peng5 曾zeng5 肖xiao5 田tian5 董dong5 袁yuan4 潘pan4 于yu4 蒋jiang4 蔡cai4 余yu4 杜du4
叶ye4 程cheng4 苏su3 魏wei3 吕lv3 丁ding3 任ren3 沈shen3 姚yao3 卢lu3 姜jiang3 崔cui3 钟zhong3 谭tan3 陆lu3 汪wang3
范fan3 金jin3 石shi3 廖liao3 贾jia3 夏xia3 韦wei2 付fu2 方fang2 白bai2 邹zou2 孟meng2 熊xiong2 秦qin2 邱qiu2 江jiang2
尹yin2 薛xue2 闫yan2 段duan2 雷lei2 侯hou2 龙long2 史shi2 黎li2 贺he2 顾gu2 毛mao2 郝hao2 龚gong2 邵shao2 万wan2
钱qian2 欧阳ouyang1 司马sima1 上官shangguan1"""

_MALE = """伟wei 强qiang 磊lei 军jun 勇yong 杰jie 涛tao 明ming 超chao 斌bin 鹏peng 辉hui 刚gang 健jian 峰feng 建jian
国guo 华hua 平ping 波bo 浩hao 宇yu 鑫xin 俊jun 凯kai 帅shuai 飞fei 龙long 亮liang 文wen 博bo 晨chen 轩xuan 子zi
豪hao 宏hong 志zhi 海hai 东dong 阳yang 洋yang 成cheng 永yong 振zhen 嘉jia 天tian 翔xiang 然ran 旭xu 毅yi 昊hao
睿rui 泽ze 远yuan 铭ming 航hang 家jia 鸿hong 晓xiao 德de 荣rong"""

_FEMALE = """芳fang 娜na 敏min 静jing 丽li 艳yan 娟juan 霞xia 秀xiu 英ying 玲ling 婷ting 雪xue 慧hui 琳lin 颖ying 倩qian
晶jing 欣xin 洁jie 莉li 燕yan 红hong 梅mei 兰lan 萍ping 琴qin 月yue 璐lu 佳jia 怡yi 雯wen 婧jing 蕾lei 悦yue 涵han
萱xuan 琪qi 瑶yao 薇wei 冰bing 露lu 丹dan 凤feng 桂gui 珍zhen 美mei 春chun 晓xiao 诗shi 梦meng 雨yu 思si 可ke
小xiao 嘉jia 晨chen 文wen"""

# the most frequent full names in China (shared by many different people)
_COMMON_NAMES = """张伟M 王伟M 王芳F 李伟M 李娜F 张敏F 李静F 王静F 刘伟M 王秀英F 张丽F 李秀英F 王丽F 张静F 李强M 王敏F
李敏F 王磊M 刘洋M 王艳F 王勇M 李军M 张勇M 李杰M 张杰M 张磊M 王强M 李娟F 王军M 张艳F 张涛M 王涛M 李艳F 王超M 李明M
李勇M 王娟F 刘杰M 刘敏F 李霞F 李丽F 张军M 王杰M 张强M 王刚M 王平M 刘芳F 张燕F 刘艳F 刘军M 李平M 王辉M 王燕F 陈静F
刘勇M 李玲F 王丹F 李刚M 李丹F 李萍F 陈伟M 杨帆M 刘静F 陈杰M 黄伟M 张鹏M 王鹏M 张颖F 王婷F"""

# sound-alike or look-alike characters a clerk or agent types instead (the name heard, not read)
_HOMOPHONES = """张章 章张 王汪 汪王 李黎 黎李 刘柳 徐许 许徐 杨阳 吴伍 周邹 林凌 何贺 朱祝 唐汤 于余 余于 肖萧 程成 付傅 蒋姜 姜蒋
钟仲 石史 陆路 江姜 黄王 伟玮 伟炜 芳方 娜纳 静婧 静晶 丽莉 丽立 敏民 军君 杰洁 磊蕾 洋阳 勇永 艳燕 涛韬 明铭 超潮 霞夏
平萍 刚钢 华桦 红宏 玲琳 婷亭 辉晖 鹏朋 飞菲 鑫欣 宇雨 浩昊 佳嘉 思斯 子梓 文雯 晨辰 轩萱 怡宜 涵晗 琳林 晶静 燕艳 颖英
倩茜 雪薛 慧惠 建健 国郭 峰锋 波博 俊骏 凯恺 龙隆 亮靓 志智 东冬 成诚 永勇 振镇 天田 翔祥 旭序 毅义 睿瑞 泽则
远源 航杭 家佳 鸿红 德得 荣蓉 兰岚 萍平 琴勤 月悦 璐露 雯文 蕾磊 悦月 萱轩 琪琦 瑶遥 薇微 冰兵 丹单 凤风 桂贵 珍真
美梅 春纯 晓小 诗师 梦蒙 雨宇 可珂 小晓"""

# simplified -> traditional for characters used in names and places (an HK/TW-style or old-system entry)
_TRADITIONAL = dict(zip(
    "张刘陈杨黄赵吴孙郑罗谢韩冯邓许苏卢蒋叶钟龙丽华红军东国广门区杰宁刚辉鹏飞涛强静兰凤云乐晓书湾庆阳庄进钱万贺龚汤顾邹陆谭萧阎贾"
    "宝艳岚颖鸿荣伦伟丰锋铭维凯玮龚纬浩剑兴燕莲业盐沪苏浙闽汉粤渝陕湘鄂豫冀辽吉黑贵晋滨义汇栋单元号楼层园苑岭坛湖桥亚华尔达",
    "張劉陳楊黃趙吳孫鄭羅謝韓馮鄧許蘇盧蔣葉鍾龍麗華紅軍東國廣門區傑寧剛輝鵬飛濤強靜蘭鳳雲樂曉書灣慶陽莊進錢萬賀龔湯顧鄒陸譚蕭閻賈"
    "寶艷嵐穎鴻榮倫偉豐鋒銘維凱瑋龔緯浩劍興燕蓮業鹽滬蘇浙閩漢粵渝陝湘鄂豫冀遼吉黑貴晉濱義匯棟單元號樓層園苑嶺壇湖橋亞華爾達"))

# province, short, city, short, district, GB/T 2260 code, city in English (WeChat profile), postcode prefix, weight
_DISTRICTS = [
    ("广东省", "广东", "深圳市", "深圳", "南山区", "440305", "Shenzhen", "518", 5),
    ("广东省", "广东", "深圳市", "深圳", "福田区", "440304", "Shenzhen", "518", 4),
    ("广东省", "广东", "深圳市", "深圳", "宝安区", "440306", "Shenzhen", "518", 4),
    ("广东省", "广东", "深圳市", "深圳", "龙岗区", "440307", "Shenzhen", "518", 4),
    ("广东省", "广东", "深圳市", "深圳", "罗湖区", "440303", "Shenzhen", "518", 2),
    ("广东省", "广东", "广州市", "广州", "天河区", "440106", "Guangzhou", "510", 4),
    ("广东省", "广东", "广州市", "广州", "越秀区", "440104", "Guangzhou", "510", 2),
    ("广东省", "广东", "广州市", "广州", "海珠区", "440105", "Guangzhou", "510", 3),
    ("广东省", "广东", "广州市", "广州", "番禺区", "440113", "Guangzhou", "511", 3),
    ("广东省", "广东", "广州市", "广州", "白云区", "440111", "Guangzhou", "510", 3),
    ("广东省", "广东", "佛山市", "佛山", "南海区", "440605", "Foshan", "528", 2),
    ("广东省", "广东", "佛山市", "佛山", "顺德区", "440606", "Foshan", "528", 2),
    ("浙江省", "浙江", "杭州市", "杭州", "西湖区", "330106", "Hangzhou", "310", 4),
    ("浙江省", "浙江", "杭州市", "杭州", "上城区", "330102", "Hangzhou", "310", 2),
    ("浙江省", "浙江", "杭州市", "杭州", "拱墅区", "330105", "Hangzhou", "310", 2),
    ("浙江省", "浙江", "杭州市", "杭州", "滨江区", "330108", "Hangzhou", "310", 2),
    ("浙江省", "浙江", "杭州市", "杭州", "余杭区", "330110", "Hangzhou", "311", 3),
    ("浙江省", "浙江", "宁波市", "宁波", "鄞州区", "330212", "Ningbo", "315", 2),
    ("北京市", "北京", "北京市", "北京", "朝阳区", "110105", "Beijing", "100", 5),
    ("北京市", "北京", "北京市", "北京", "海淀区", "110108", "Beijing", "100", 4),
    ("北京市", "北京", "北京市", "北京", "东城区", "110101", "Beijing", "100", 1),
    ("北京市", "北京", "北京市", "北京", "西城区", "110102", "Beijing", "100", 1),
    ("北京市", "北京", "北京市", "北京", "丰台区", "110106", "Beijing", "100", 2),
    ("上海市", "上海", "上海市", "上海", "浦东新区", "310115", "Shanghai", "200", 6),
    ("上海市", "上海", "上海市", "上海", "徐汇区", "310104", "Shanghai", "200", 2),
    ("上海市", "上海", "上海市", "上海", "静安区", "310106", "Shanghai", "200", 2),
    ("上海市", "上海", "上海市", "上海", "闵行区", "310112", "Shanghai", "201", 3),
    ("上海市", "上海", "上海市", "上海", "长宁区", "310105", "Shanghai", "200", 1),
    ("四川省", "四川", "成都市", "成都", "武侯区", "510107", "Chengdu", "610", 3),
    ("四川省", "四川", "成都市", "成都", "锦江区", "510104", "Chengdu", "610", 2),
    ("四川省", "四川", "成都市", "成都", "青羊区", "510105", "Chengdu", "610", 2),
    ("四川省", "四川", "成都市", "成都", "成华区", "510108", "Chengdu", "610", 2),
    ("江苏省", "江苏", "南京市", "南京", "鼓楼区", "320106", "Nanjing", "210", 2),
    ("江苏省", "江苏", "南京市", "南京", "玄武区", "320102", "Nanjing", "210", 1),
    ("江苏省", "江苏", "苏州市", "苏州", "姑苏区", "320508", "Suzhou", "215", 2),
    ("江苏省", "江苏", "苏州市", "苏州", "吴中区", "320506", "Suzhou", "215", 2),
    ("湖北省", "湖北", "武汉市", "武汉", "武昌区", "420106", "Wuhan", "430", 2),
    ("湖北省", "湖北", "武汉市", "武汉", "洪山区", "420111", "Wuhan", "430", 2),
    ("福建省", "福建", "厦门市", "厦门", "思明区", "350203", "Xiamen", "361", 2),
    ("福建省", "福建", "厦门市", "厦门", "湖里区", "350206", "Xiamen", "361", 1),
    ("山东省", "山东", "青岛市", "青岛", "市南区", "370202", "Qingdao", "266", 1),
    ("山东省", "山东", "青岛市", "青岛", "崂山区", "370212", "Qingdao", "266", 1),
    ("陕西省", "陕西", "西安市", "西安", "雁塔区", "610113", "Xi'an", "710", 2),
    ("重庆市", "重庆", "重庆市", "重庆", "渝北区", "500112", "Chongqing", "401", 2),
    ("重庆市", "重庆", "重庆市", "重庆", "渝中区", "500103", "Chongqing", "400", 1),
    ("天津市", "天津", "天津市", "天津", "南开区", "120104", "Tianjin", "300", 1),
    ("湖南省", "湖南", "长沙市", "长沙", "岳麓区", "430104", "Changsha", "410", 2),
    ("河南省", "河南", "郑州市", "郑州", "金水区", "410105", "Zhengzhou", "450", 2),
]
_MUNICIPALITIES = {"北京市", "上海市", "天津市", "重庆市"}

_STREETS = ("新城 城关 东湖 西湖 南山 粤海 沙河 桃源 龙华 新安 西乡 华强北 东门 翠竹 梅林 香蜜湖 石岩 坂田 布吉 横岗 天河南 "
            "五山 石牌 珠江 建国门 望京 中关村 学院路 陆家嘴 花木 张江 漕河泾 浆洗街 玉林 紫金 双塔 水果湖 关山 鼓浪屿 湖里 "
            "八大关 小寨 解放碑 观音桥 岳麓 金水 北林 南湖 五里").split()
_ROADS = ("人民路 中山路 解放路 建设路 和平路 新华路 文化路 胜利路 朝阳路 青年路 花园路 迎宾大道 滨河路 学府路 科技路 工业大道 "
          "长江路 黄河路 东风路 光明路 幸福路 民主路 团结路 振兴路 发展大道 创业路 望江路 环城路 深南大道 科苑路 北京路 "
          "天府大道 延安路 淮海路 南京路 文三路 体育路 五一路 春熙路 金融街").split()
_COMMUNITIES = "幸福 阳光 花园 和平 新村 翠竹 桂园 锦绣 东门 金桥 南湖 北环 兴华 海滨 园岭 景田 莲花 荔湾 龙井 玉泉".split()
_ESTATE_A = "碧桂园 万科 保利 华润 恒大 中海 龙湖 金地 招商 绿地 融创 世茂 阳光 锦绣 翠湖 东方 星河 天悦 御景 紫荆 泰然 金色".split()
_ESTATE_B = "花园 城 小区 家园 苑 公寓 华府 名苑 新村 雅居 山庄 府 壹号 天地".split()
_TOWERS = "国际大厦 金融中心 科技园 创业大厦 商务中心 广场 中心大厦 写字楼 产业园 软件园".split()
_COMPANIES = "华信科技 博远贸易 鼎盛咨询 恒通物流 新锐传媒 明达电子 智联信息 金石投资 同创设计 海纳网络".split()

_NICK_WORDS = ("阳光 小确幸 平安是福 开心每一天 静待花开 岁月静好 追梦人 一路有你 木子李 半夏 晴天 风轻云淡 随缘 知足常乐 "
               "幸运草 简单 淡然 向日葵 花开富贵 心若向阳 微笑 快乐就好 海阔天空 大白 小太阳 云淡风轻 不忘初心 梦想家 "
               "慢慢来 时光 小鱼儿 橙子 柠檬 糖果 兔子 奶茶 西瓜 芒果 小猪佩奇 忆往昔 清风 明月 听雨 南风 北岛 星空 "
               "晨曦 夏天 秋叶 冬雪 春风 家和万事兴 天道酬勤 厚德载物 宁静致远").split()
_NICK_EN = "Amy Lily Jack Kevin Tony Coco Vivian Cindy Eric Leo Sunny Grace Jason Emma Alice Momo Lucky Summer Echo Bella".split()
_EMOJI = ["🌸", "🍀", "🌹", "☀️", "🌈", "💕", "🐱", "🍓", "⭐", "🌙"]
_STAFF = ("陈晓丽 刘婷 王海燕 张晓娟 李春梅 赵丽 周敏 孙静 吴倩 郑雪 林芳 黄小红 何丹 高颖 罗佳 梁燕 宋婷 唐敏 许丽娟 韩雪 "
          "客服小美 客服01 客服02 张伟 王芳").split()
_STORES = ("深圳万象城店 深圳海岸城店 广州天河城店 广州正佳店 杭州湖滨银泰店 杭州西溪印象城店 北京朝阳大悦城店 北京国贸店 "
           "上海环球港店 上海正大广场店 成都太古里店 南京新街口店 武汉群光店 厦门SM店 西安赛格店 重庆观音桥店").split()

_MOBILE_PREFIXES = ("130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156 157 158 159 166 173 175 176 "
                    "177 178 180 181 182 183 184 185 186 187 188 189 191 198 199").split()
_FAKE_PHONES = ["13800138000", "13888888888", "18888888888", "13000000000", "13800000000"]
_PLACEHOLDERS = ["无", "未知", "-", "暂无", "/", "NULL", "N/A"]
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def _parse_chars(text: str) -> list[tuple[str, str]]:
    out = []
    for token in text.split():
        hanzi = "".join(c for c in token if ord(c) > 127)
        out.append((hanzi, token[len(hanzi):]))
    return out


SURNAMES = [(h, "".join(c for c in p if c.isalpha()), int("".join(c for c in p if c.isdigit())))
            for h, p in _parse_chars(_SURNAMES)]
MALE_CHARS = _parse_chars(_MALE)
FEMALE_CHARS = _parse_chars(_FEMALE)
PINYIN = {h: p for h, p in MALE_CHARS + FEMALE_CHARS} | {h: p for h, p, _ in SURNAMES}
COMMON_NAMES = [(t[:-1], t[-1]) for t in _COMMON_NAMES.split()]
HOMOPHONES: dict[str, list[str]] = {}
for _pair in _HOMOPHONES.split():
    if len(_pair) == 2 and all(ord(c) > 127 for c in _pair):
        HOMOPHONES.setdefault(_pair[0], []).append(_pair[1])
_SURNAME_SET = {h for h, _, _ in SURNAMES}


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def traditional(text: str) -> str:
    return "".join(_TRADITIONAL.get(c, c) for c in text)


def split_name(name: str) -> tuple[str, str]:
    if name[:2] in _SURNAME_SET:
        return name[:2], name[2:]
    return name[:1], name[1:]


def pinyin_of(name: str) -> tuple[str, str]:
    surname, given = split_name(name)
    return PINYIN.get(surname, "x"), "".join(PINYIN.get(c, "x") for c in given)


# ---------------------------------------------------------------------------------------------
# headers: every variant this module may write, with the role of its values
# ---------------------------------------------------------------------------------------------

VARIANTS: dict[str, dict[str, list[str]]] = {
    "mini": {"member_id": ["会员ID", "会员编号", "用户ID"], "appid": ["appid", "AppID", "小程序AppID"],
             "openid": ["openid", "OpenID", "openId"], "unionid": ["unionid", "UnionID", "unionId"],
             "nickname": ["昵称", "微信昵称", "nickName"], "mobile": ["手机号", "授权手机号", "phoneNumber"],
             "name": ["姓名", "真实姓名"], "gender": ["性别", "gender"], "province": ["省份", "province"],
             "city": ["城市", "city"], "tier": ["会员等级"], "points": ["积分", "当前积分"],
             "created": ["注册时间", "创建时间", "授权时间"]},
    "oa": {"openid": ["openid", "OPENID", "粉丝openid"], "unionid": ["unionid", "UnionID", "UNIONID"],
           "nickname": ["昵称", "粉丝昵称", "nickname"], "subscribed": ["关注时间", "subscribe_time"],
           "scene": ["关注来源", "subscribe_scene"], "remark": ["备注", "remark"], "tags": ["标签", "tagid_list"]},
    "douyin": {"lead_id": ["线索ID", "线索编号"], "douyin_uid": ["抖音UID", "用户ID", "抖音用户ID"],
               "nickname": ["抖音昵称", "用户昵称", "昵称"], "name": ["姓名", "客户姓名", "联系人"],
               "mobile": ["电话", "手机号", "联系电话"], "region": ["所在地区", "省市", "地区"],
               "age_band": ["年龄段", "年龄"], "lead_source": ["线索来源", "来源"], "message": ["留言", "用户留言"],
               "created": ["线索创建时间", "创建时间", "留资时间"]},
    "tmall": {"order_no": ["订单编号"], "buyer_nick": ["买家会员名", "买家昵称"], "alipay": ["买家支付宝账号"],
              "paid": ["买家实际支付金额"], "status": ["订单状态"], "buyer_msg": ["买家留言"],
              "receiver_name": ["收货人姓名"], "receiver_address": ["收货地址 ", "收货地址"],
              "landline": ["联系电话 ", "联系电话"], "receiver_mobile": ["联系手机", "收货人手机"],
              "created": ["订单创建时间"], "paid_at": ["订单付款时间 ", "订单付款时间"], "item": ["宝贝标题 ", "宝贝标题"],
              "qty": ["宝贝总数量"], "remark": ["订单备注"]},
    "pos": {"card_no": ["会员卡号", "卡号"], "name": ["会员姓名", "姓名"], "mobile": ["手机", "手机号码", "会员手机"],
            "gender": ["性别"], "birthday": ["生日", "出生日期"], "store": ["开卡门店", "所属门店"],
            "opened": ["开卡日期", "入会时间"], "spend": ["累计消费", "消费金额"], "points": ["积分", "可用积分"],
            "tier": ["会员等级", "等级"], "guide": ["导购", "专属导购"]},
    "crm": {"customer_no": ["客户编号", "客户ID"], "name": ["客户姓名", "姓名"], "mobile": ["手机号码", "移动电话", "手机"],
            "email": ["电子邮箱", "邮箱", "Email"], "id_number": ["证件号码", "身份证号"], "gender": ["性别"],
            "birth_date": ["出生日期", "生日"], "province": ["省份", "省"], "city": ["城市", "市"],
            "district": ["区县", "区"], "address": ["详细地址", "联系地址"], "unionid": ["微信UnionID", "unionid"],
            "tier": ["客户等级"], "created": ["创建时间", "建档时间"], "note": ["备注"]},
    "ticket": {"ticket_no": ["工单号", "工单编号"], "salutation": ["客户称呼", "称呼"],
               "mobile": ["联系电话", "来电号码", "手机"], "id_number": ["身份证号", "证件号"], "email": ["邮箱", "电子邮箱"],
               "order_ref": ["关联订单号"], "kind": ["问题类型"], "text": ["问题描述"], "created": ["创建时间"],
               "status": ["处理状态"], "agent": ["处理人"]},
}
ROLES: dict[str, dict[str, str]] = {ch: {h: role for role, hs in v.items() for h in hs} for ch, v in VARIANTS.items()}

CHANNELS = {  # key: (file name, encoding, product channel)
    "mini": ("小程序会员导出_20240531.csv", "utf-8", "wechat_mp"),
    "oa": ("公众号粉丝列表.csv", "utf-8", "wechat_oa"),
    "douyin": ("抖音来客线索_2024-05-31.csv", "utf-8-sig", "douyin"),
    "tmall": ("ExportOrderList202405311023.csv", "gbk", "tmall"),
    "pos": ("门店会员资料.xlsx", "xlsx", "pos"),
    "crm": ("crm_customers_full.csv", "utf-8-sig", "crm"),
    "ticket": ("客服工单导出.csv", "utf-8", "other"),
}
CHANNEL_OF_FILE = {spec[0]: ch for ch, spec in CHANNELS.items()}

_CH_WEIGHT = {"mini": 22, "oa": 8, "douyin": 17, "tmall": 20, "pos": 15, "crm": 10, "ticket": 6}
_AFFINITY = {"mini": {"oa": 3, "douyin": 1.3}, "oa": {"mini": 5}, "tmall": {"ticket": 3, "mini": 1.2},
             "pos": {"crm": 2.5, "mini": 1.5}, "crm": {"pos": 2, "ticket": 2}, "douyin": {"pos": 1.5, "mini": 1.5},
             "ticket": {"tmall": 3, "crm": 2}}
START, END = datetime(2021, 1, 1), datetime(2024, 5, 31, 22, 0)


# ---------------------------------------------------------------------------------------------
# people
# ---------------------------------------------------------------------------------------------

@dataclass
class Address:
    district: tuple
    street: str
    community: str
    road: str
    number: int
    estate: str
    building: int
    unit: int
    room: str
    company: str = ""   # a work address carries the company


@dataclass(eq=False)
class Person:
    pid: str
    name: str
    gender: str              # M/F
    birth: date
    home: Address
    hukou: tuple
    id_number: str
    phone: str
    alt_phone: str | None = None     # changed (old before `changed_at`) or a second phone
    changed_at: datetime | None = None
    shared_phone: str | None = None  # a household member's phone this person registers with
    email: str | None = None
    work: Address | None = None
    wx_nick: str = ""
    unionid: str | None = None
    dy_uid: str = ""
    dy_nick: str = ""
    tb_nick: str = ""
    household: list = field(default_factory=list)
    order_nos: list = field(default_factory=list)


# How often the hard cases occur. 'harsh' (the default) is the draw the floors and figures are measured on;
# 'mild' has the same channels and kinds of noise, with fewer collisions: its exact-mobile baseline is
# about as precise as the one of the independent evaluation the OneID issue quotes (0.986).
PROFILES = {
    "harsh": {"common_name": 0.08, "households": 0.16, "family_phone": 0.6, "fake_phone": 0.03, "gift": 0.12},
    "mild": {"common_name": 0.02, "households": 0.06, "family_phone": 0.3, "fake_phone": 0.005, "gift": 0.05},
}


class Gen:
    def __init__(self, seed: int, profile: str = "harsh"):
        self.r = random.Random(seed)
        self.k = PROFILES[profile]
        self.used_phones: set[str] = set()
        self.used_ids: set[str] = set()
        self.seq = 0
        r = self.r
        self.h = {ch: {role: r.choice(hs) for role, hs in v.items()} for ch, v in VARIANTS.items()}  # headers of this seed
        self.mini_appid = "wx" + "".join(r.choice("0123456789abcdef") for _ in range(16))
        self.openid_prefix = {"mini": "o" + self._b64(5), "oa": "o" + self._b64(5), "mini2": "o" + self._b64(5)}
        self.unionid_prefix = "o" + self._b64(5)
        self.district_weights = [d[-1] for d in _DISTRICTS]
        self.last_shared = False   # whether phone_at() just gave a household member's phone

    # -- primitives ----------------------------------------------------------------------------
    def _b64(self, n: int) -> str:
        return "".join(self.r.choice(string.ascii_letters + string.digits + "_-") for _ in range(n))

    def p(self, prob: float) -> bool:
        return self.r.random() < prob

    def when(self, after: datetime = START) -> datetime:
        span = (END - after).total_seconds()
        return after + timedelta(seconds=int(self.r.random() * max(span, 1)))

    def mobile(self) -> str:
        while True:
            m = self.r.choice(_MOBILE_PREFIXES) + "".join(self.r.choice(string.digits) for _ in range(8))
            if m not in self.used_phones and m not in _FAKE_PHONES:
                self.used_phones.add(m)
                return m

    def district(self) -> tuple:
        return self.r.choices(_DISTRICTS, weights=self.district_weights)[0]

    def address(self, district: tuple | None = None, work: bool = False) -> Address:
        r = self.r
        d = district or self.district()
        estate = r.choice(_ESTATE_A) + r.choice(_ESTATE_B) if not work else r.choice(_ROADS)[:2] + r.choice(_TOWERS)
        return Address(d, r.choice(_STREETS) + "街道", r.choice(_COMMUNITIES) + "社区", r.choice(_ROADS), r.randint(1, 999),
                       estate, r.randint(1, 30), r.randint(1, 4), f"{r.randint(1, 33)}{r.randint(1, 8):02d}",
                       company=(r.choice(_COMPANIES) + "有限公司") if work else "")

    def name(self, gender: str, birth: date, surname: str | None = None) -> str:
        r = self.r
        if surname is None and self.p(self.k["common_name"]):
            pool = [n for n, g in COMMON_NAMES if g == gender]
            return pool[min(int(r.expovariate(1 / 8)), len(pool) - 1)]
        if surname is None:
            surname = r.choices(SURNAMES, weights=[w for _, _, w in SURNAMES])[0][0]
        chars = MALE_CHARS if gender == "M" else FEMALE_CHARS
        one = self.p(0.45 if birth.year < 1980 else 0.25)
        given = r.choice(chars)[0] if one else r.choice(chars)[0] + r.choice(chars)[0]
        return surname + given

    def id_number(self, region: str, birth: date, gender: str) -> str:
        while True:
            seq = self.r.randint(0, 99) * 10 + int(self.r.choice("13579" if gender == "M" else "02468"))
            first = f"{region}{birth:%Y%m%d}{seq:03d}"
            n = first + id_check_digit(first)
            if n not in self.used_ids:
                self.used_ids.add(n)
                return n

    def birth(self) -> date:
        r = self.r
        year = int(min(2006, max(1950, r.gauss(1988, 10))))
        return date(year, 1, 1) + timedelta(days=r.randint(0, 364))

    def email(self, name: str, birth: date) -> str:
        r = self.r
        sur, giv = pinyin_of(name)
        kind = r.random()
        if kind < 0.35:
            return f"{r.randint(10_000_000, 3_999_999_999)}@qq.com"
        local = r.choice([f"{sur}{giv}", f"{giv}.{sur}", f"{sur}{giv}{birth.year}", f"{sur}{giv}{r.randint(1, 999)}",
                          f"{giv[:1]}{sur}{birth:%m%d}", f"{sur}_{giv}"])
        return local + "@" + r.choice(["163.com", "126.com", "sina.com", "foxmail.com", "gmail.com", "hotmail.com",
                                       "139.com", "outlook.com"])

    def nickname(self, name: str) -> str:
        r = self.r
        k = r.random()
        sur, giv = pinyin_of(name)
        if k < 0.45:
            base = r.choice(_NICK_WORDS)
        elif k < 0.6:
            base = r.choice(_NICK_EN)
        elif k < 0.72:
            base = split_name(name)[1] or name
        elif k < 0.8:
            base = r.choice(["A", "A-", "A~", ""]) + split_name(name)[0] + r.choice(["总", "姐", "哥", "老师"])
        elif k < 0.88:
            base = giv.capitalize() + (r.choice(["", "_", "."]) + str(r.randint(1, 99)) if self.p(0.5) else "")
        else:
            base = r.choice(_NICK_WORDS) + r.choice(_NICK_WORDS)[:2]
        if self.p(0.15):
            base = r.choice(_EMOJI) + base if self.p(0.5) else base + r.choice(_EMOJI)
        return base

    def person(self, i: int) -> Person:
        r = self.r
        gender = "M" if self.p(0.47) else "F"
        birth = self.birth()
        home = self.address()
        hukou = home.district if self.p(0.55) else self.district()
        if self.p(0.25):  # migrants: ID from a region the person does not live in
            hukou = self.district()
        name = self.name(gender, birth)
        pr = Person(f"P{i:06d}", name, gender, birth, home, hukou, self.id_number(hukou[5], birth, gender), self.mobile())
        if self.p(0.14):
            pr.alt_phone = self.mobile()
            pr.changed_at = self.when(datetime(2022, 1, 1)) if self.p(0.65) else None  # None: a second phone
        if self.p(0.45):
            pr.email = self.email(name, birth)
        if self.p(0.35):
            pr.work = self.address(self.r.choice([d for d in _DISTRICTS if d[2] == home.district[2]]), work=True)
        pr.wx_nick = self.nickname(name)
        pr.unionid = self.unionid_prefix + self._b64(22)
        pr.dy_uid = str(r.randint(10 ** 10, 10 ** 16))
        pr.dy_nick = (pr.wx_nick if self.p(0.3) else
                      f"用户{r.randint(10 ** 9, 10 ** 13)}" if self.p(0.3) else self.nickname(name))
        sur, giv = pinyin_of(name)
        pr.tb_nick = r.choice([f"tb{r.randint(10 ** 9, 10 ** 10 - 1)}", f"t_{r.randint(10 ** 12, 10 ** 13 - 1)}",
                               f"{sur}{giv}{r.choice(['', str(birth.year), str(r.randint(1, 999)), '_' + str(r.randint(1, 99))])}",
                               r.choice(_NICK_WORDS) + str(r.randint(1, 9999)), f"{giv}{sur}{r.randint(1, 99)}"])
        return pr

    def phone_at(self, pr: Person, at: datetime, allow_shared: bool = True) -> str:
        """The phone a person gives at `at`: the old one before a change, a second phone now and then, a household
        member's phone for those who register with the family phone."""
        self.last_shared = bool(allow_shared and pr.shared_phone and self.p(0.6))
        if self.last_shared:
            return pr.shared_phone
        if pr.alt_phone:
            if pr.changed_at is not None:
                return pr.alt_phone if at < pr.changed_at else pr.phone
            if self.p(0.4):
                return pr.alt_phone
        return pr.phone


# ---------------------------------------------------------------------------------------------
# value renderers (what a system or a clerk writes)
# ---------------------------------------------------------------------------------------------

def mask_phone(m: str) -> str:
    return m[:3] + "****" + m[7:]


def typo_phone(r: random.Random, m: str) -> str:
    i = r.randint(3, 10)
    if r.random() < 0.3 and i < 10 and m[i] != m[i + 1]:
        return m[:i] + m[i + 1] + m[i] + m[i + 2:]
    return m[:i] + r.choice([d for d in string.digits if d != m[i]]) + m[i + 1:]


def typo_name(r: random.Random, name: str) -> str:
    spots = [i for i, c in enumerate(name) if c in HOMOPHONES]
    if not spots:
        return name
    i = r.choice(spots)
    return name[:i] + r.choice(HOMOPHONES[name[i]]) + name[i + 1:]


def format_phone(r: random.Random, m: str, styles: list[tuple[str, float]]) -> str:
    style = r.choices([s for s, _ in styles], weights=[w for _, w in styles])[0]
    return {"plain": m, "+86": "+86" + m, "+86 ": f"+86 {m[:3]} {m[3:7]} {m[7:]}", "86-": "86-" + m,
            "dash": f"{m[:3]}-{m[3:7]}-{m[7:]}", "space": f"{m[:3]} {m[3:7]} {m[7:]}", "(+86)": "(+86)" + m,
            "apos": "'" + m, "tab": "\t" + m, "0086": "0086" + m}[style]


def pinyin_name(r: random.Random, name: str) -> str:
    sur, giv = pinyin_of(name)
    style = r.random()
    if style < 0.35:
        return f"{sur.capitalize()} {giv.capitalize()}"
    if style < 0.6:
        return f"{giv.capitalize()} {sur.capitalize()}"
    if style < 0.8:
        return f"{sur} {giv}".upper()
    if style < 0.9:
        return f"{sur} {giv}"
    return f"{sur.capitalize()}{giv.capitalize()}"


def region_text(r: random.Random, d: tuple) -> str:
    prov, ps, city, cs, dist = d[:5]
    muni = prov in _MUNICIPALITIES
    style = r.random()
    if style < 0.3:
        return f"{prov} {city}"
    if style < 0.5:
        return ps + cs if not muni else ps
    if style < 0.7:
        return f"{prov}/{city}/{dist}"
    if style < 0.82:
        return city
    if style < 0.92:
        return f"{ps}-{cs}"
    return f"中国 {ps} {cs}"


def age_band(r: random.Random, birth: date, at: datetime) -> str:
    age = at.year - birth.year
    if r.random() < 0.1:
        age += r.choice([-6, 6])
    style = r.random()
    if style < 0.45:
        for lo, hi in ((0, 17), (18, 24), (25, 30), (31, 40), (41, 50)):
            if age <= hi:
                label = f"{lo}-{hi}" if lo else "18岁以下"
                return label + ("岁" if r.random() < 0.5 and lo else "")
        return "50岁以上"
    if style < 0.65:
        return "30岁以上" if age > 30 else "30岁以下"
    gen = (birth.year // 10 % 10) * 10
    if r.random() < 0.3 and birth.year % 10 >= 5:
        gen += 5
    return f"{gen:02d}后"


def full_address(r: random.Random, a: Address, style: str | None = None) -> str:
    prov, ps, city, cs, dist = a.district[:5]
    if a.company:
        detail = f"{a.road}{a.number}号{a.estate}{r.randint(2, 38)}楼 {a.company}"
    else:
        detail = r.choice([f"{a.road}{a.number}号{a.estate}{a.building}栋{a.unit}单元{a.room}室",
                           f"{a.estate}{a.building}栋{a.room}", f"{a.estate}{a.building}-{a.unit}-{a.room}",
                           f"{a.community}{a.estate}{a.building}号楼{a.unit}单元{a.room}"])
    style = style or r.choice(["tmall", "tmall", "compact", "spaced", "no_province"])
    if style == "tmall":  # 北京 北京市 朝阳区 … : Taobao writes the municipality twice
        head = f"{ps if prov in _MUNICIPALITIES else prov} {city} {dist} {a.street}"
        return f"{head} {detail}" + (f"({a.district[7]}{r.randint(0, 999):03d})" if r.random() < 0.6 else "")
    if style == "compact":
        return f"{prov if prov not in _MUNICIPALITIES else ''}{city}{dist}{a.street}{detail}"
    if style == "spaced":
        return f"{prov} {city} {dist} {detail}"
    return f"{city}{dist}{detail}"


def detail_address(r: random.Random, a: Address) -> str:
    return r.choice([f"{a.street}{a.road}{a.number}号{a.estate}{a.building}栋{a.room}",
                     f"{a.estate}{a.building}栋{a.unit}单元{a.room}室", f"{a.road}{a.number}号{a.estate}"])


def fmt_dt(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------------------------------------
# channels
# ---------------------------------------------------------------------------------------------

Row = tuple[datetime, dict, str]   # (sort time, {role: value}, person id)


def _shown_name(g: Gen, pr: Person, typo: float, trad: float = 0.0) -> str:
    name = pr.name
    if g.p(typo):
        name = typo_name(g.r, name)
    if trad and g.p(trad):
        name = traditional(name)
    return name


def mini_rows(g: Gen, pr: Person) -> list[Row]:
    r = g.r
    rows = []
    openid = g.openid_prefix["mini"] + g._b64(22)
    unionid, nick = pr.unionid, pr.wx_nick
    for k in range(2 if g.p(0.04) else 1):
        at = g.when()
        if k == 1 and g.p(0.5):   # re-registered with a second WeChat account
            openid, unionid, nick = g.openid_prefix["mini"] + g._b64(22), g.unionid_prefix + g._b64(22), g.nickname(pr.name)
        generic = at > datetime(2022, 10, 25) and g.p(0.45)   # getUserProfile stopped returning profiles
        shown_nick = "微信用户" if generic else nick
        row = {"member_id": str(100_000 + g.seq), "appid": g.mini_appid, "openid": openid,
               "unionid": unionid if g.p(0.85) else "", "nickname": shown_nick,
               "mobile": "", "name": "", "gender": "0", "province": "", "city": "",
               "tier": r.choice(["普通会员", "普通会员", "银卡会员", "金卡会员"]), "points": str(r.randint(0, 5000)),
               "created": fmt_dt(at)}
        g.seq += 1
        if g.p(0.5):
            row["mobile"] = format_phone(r, g.phone_at(pr, at), [("plain", 90), ("+86", 6), ("+86 ", 4)])
            row["_shared"] = g.last_shared
        if g.p(0.08):
            row["name"] = _shown_name(g, pr, 0.03)
        if not generic and g.p(0.6):
            row["gender"] = "1" if pr.gender == "M" else "2"
        if not generic and g.p(0.4):
            d = pr.home.district
            english = g.p(0.4)
            row["province"] = ("Guangdong Zhejiang Beijing Shanghai Sichuan Jiangsu Hubei Fujian Shandong Shaanxi "
                               "Chongqing Tianjin Hunan Henan").split()[
                ["广东省", "浙江省", "北京市", "上海市", "四川省", "江苏省", "湖北省", "福建省", "山东省", "陕西省", "重庆市",
                 "天津市", "湖南省", "河南省"].index(d[0])] if english else d[1]
            row["city"] = d[6] if english else d[3]
        rows.append((at, row, pr.pid))
    return rows


def oa_rows(g: Gen, pr: Person) -> list[Row]:
    r = g.r
    rows = []
    unionid, nick = pr.unionid, pr.wx_nick
    for k in range(2 if g.p(0.02) else 1):
        at = g.when(datetime(2018, 1, 1))
        if k == 1:
            unionid, nick = g.unionid_prefix + g._b64(22), g.nickname(pr.name)
        shown = nick if at < datetime(2021, 12, 27) else r.choice(["微信用户", "", nick])
        subscribed = str(int(at.timestamp())) if g.h["oa"]["subscribed"] == "subscribe_time" else fmt_dt(at)
        rows.append((at, {"openid": g.openid_prefix["oa"] + g._b64(22), "unionid": unionid if g.p(0.9) else "",
                          "nickname": shown, "subscribed": subscribed,
                          "scene": r.choice(["ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH", "ADD_SCENE_PROFILE_CARD",
                                             "ADD_SCENE_ACCOUNT_MIGRATION", "ADD_SCENE_OTHERS"]),
                          "remark": "", "tags": r.choice(["[]", "[]", "[2]", "[2,105]", "[108]"])}, pr.pid))
    return rows


def douyin_rows(g: Gen, pr: Person) -> list[Row]:
    r = g.r
    rows = []
    n = 1 + (1 if g.p(0.10) else 0) + (1 if g.p(0.03) else 0)
    for _ in range(n):
        at = g.when(datetime(2022, 6, 1))
        k = r.random()
        sur = split_name(pr.name)[0]
        if k < 0.62:
            name = _shown_name(g, pr, 0.04)
        elif k < 0.78:
            name = sur + ("先生" if pr.gender == "M" else r.choice(["女士", "女士", "小姐"]))
        elif k < 0.81:
            name = sur
        elif k < 0.88:
            name = pr.dy_nick
        else:
            name = ""
        phone_kind = r.random()
        m = g.phone_at(pr, at)
        shared = g.last_shared and phone_kind < 0.95
        if phone_kind < 0.40:
            mobile = mask_phone(m)
        elif phone_kind < 0.95:
            mobile = format_phone(r, typo_phone(r, m) if g.p(0.02) else m, [("plain", 85), ("+86", 10), ("space", 5)])
        else:
            mobile = ""
        region = ""
        if g.p(0.85):
            region = region_text(r, pr.home.district if g.p(0.88) else g.district())
        rows.append((at, {"lead_id": str(r.randint(7 * 10 ** 18, 74 * 10 ** 17)),
                          "douyin_uid": pr.dy_uid if g.p(0.9) else "", "nickname": pr.dy_nick, "name": name,
                          "mobile": mobile, "region": region, "age_band": age_band(r, pr.birth, at) if g.p(0.6) else "",
                          "lead_source": r.choice(["直播间", "短视频", "企业号主页", "团购", "本地推"]),
                          "message": r.choice(["", "", "想了解一下价格", "门店地址在哪", "有优惠吗", "预约到店",
                                               "请联系我", "晚上打电话"]),
                          "created": fmt_dt(at), "_shared": shared}, pr.pid))
    return rows


_ITEMS = ["保湿精华液 30ml", "氨基酸洗面奶 120g", "修护面霜 50g 礼盒装", "防晒霜SPF50+", "护手霜三支装", "香氛礼盒 520限定",
          "眼霜 15ml", "面膜 10片装", "身体乳 400ml", "口红 #999"]


def tmall_rows(g: Gen, pr: Person, people: list[Person], outsiders: list[Person]) -> list[Row]:
    r = g.r
    rows = []
    n = 1 + min(int(r.expovariate(1 / 0.45)), 6)
    alipay_phone = pr.phone if g.p(0.6) else None
    for _ in range(n):
        at = g.when(datetime(2021, 6, 1))
        gift = g.p(g.k["gift"])
        if gift:
            k = r.random()
            if k < 0.35 and pr.household:
                rcv = r.choice(pr.household)
            elif k < 0.65:
                rcv = r.choice(people)
                if rcv is pr:
                    rcv = r.choice(outsiders)
            else:
                rcv = r.choice(outsiders)
        else:
            rcv = pr
        name = _shown_name(g, rcv, 0.02, 0.005)
        if g.p(0.04):
            name = split_name(rcv.name)[0] + ("先生" if rcv.gender == "M" else "女士")
        addr = rcv.home if (gift or rcv.work is None or g.p(0.7)) else rcv.work
        status = r.choice(["交易成功"] * 6 + ["交易关闭", "卖家已发货，等待买家确认", "买家已付款，等待卖家发货"])
        m = g.phone_at(rcv, at, allow_shared=not gift)
        order_no = str(r.randint(10 ** 18, 4 * 10 ** 18 - 1)) if g.p(0.85) else str(r.randint(10 ** 17, 10 ** 18 - 1))
        pr.order_nos.append(order_no)
        paid = round(r.uniform(29, 1200), 2)
        rows.append((at, {"order_no": order_no, "buyer_nick": pr.tb_nick,
                          "alipay": (mask_phone(alipay_phone) if alipay_phone else
                                     (pr.email[:3] + "***@" + pr.email.split("@")[1]) if pr.email else "**"),
                          "paid": f"{paid:.2f}", "status": status,
                          "buyer_msg": r.choice(["送朋友的，不要放发票", "礼物，请帮忙包装", "生日礼物"]) if gift and g.p(0.4)
                          else (r.choice(["", "", "", "请尽快发货", "放快递柜"])),
                          "receiver_name": name, "receiver_address": full_address(r, addr),
                          "landline": r.choice(["-", "-", "", f"0{r.randint(10, 999)}-{r.randint(2000000, 89999999)}"])
                          if g.p(0.97) else "",
                          "receiver_mobile": format_phone(r, m, [("apos", 70), ("plain", 20), ("86-", 5), ("+86", 5)])
                          if g.p(0.97) else "",
                          "created": fmt_dt(at), "paid_at": fmt_dt(at + timedelta(minutes=r.randint(0, 30)))
                          if status != "交易关闭" else "",
                          "item": r.choice(_ITEMS), "qty": str(r.choice([1, 1, 1, 2, 3])), "remark": "",
                          "_shared": g.last_shared, "_gift": rcv.pid if gift else "",
                          "_gift_kind": ("household" if any(h is rcv for h in pr.household) else "outsider" if rcv.pid >= "P9"
                                         else "customer") if gift else ""}, pr.pid))
    return rows


def pos_rows(g: Gen, pr: Person) -> list[Row]:
    r = g.r
    rows = []
    n = 2 if g.p(0.05) else 1
    for _ in range(n):
        at = g.when(datetime(2019, 1, 1))
        phone_kind = r.random()
        g.last_shared = False
        if phone_kind < g.k["fake_phone"]:
            mobile: object = r.choice(_FAKE_PHONES)
        elif phone_kind < g.k["fake_phone"] + 0.02:
            mobile = r.choice(_PLACEHOLDERS[:3])
        else:
            m = g.phone_at(pr, at)
            m = typo_phone(r, m) if g.p(0.025) else m
            mobile = int(m) if g.p(0.6) else format_phone(r, m, [("plain", 80), ("dash", 8), ("space", 7), ("+86", 5)])
        name = _shown_name(g, pr, 0.04, 0.01)
        if g.p(0.02):
            name = name[0] + " " + name[1:]
        if g.p(0.01):
            name = r.choice(["顾客", "未知", "无"])
        b = pr.birth
        bk = r.random()
        birthday: object
        if bk < 0.15:
            birthday = b  # an Excel date cell
        elif bk < 0.3:
            birthday = f"{b:%Y-%m-%d}"
        elif bk < 0.42:
            birthday = f"{b.year}/{b.month}/{b.day}"
        elif bk < 0.5:
            birthday = f"{b:%Y%m%d}"
        elif bk < 0.56:
            birthday = f"{b.year}年{b.month}月{b.day}日"
        elif bk < 0.66:
            birthday = f"{b.month}月{b.day}日"
        elif bk < 0.72:
            birthday = f"{b:%m-%d}"
        elif bk < 0.74:
            birthday = "1900-01-01"
        else:
            birthday = ""
        card = int(f"88{r.randint(10 ** 9, 10 ** 10 - 1)}") if g.p(0.7) else f"VIP{r.randint(10 ** 6, 10 ** 7 - 1)}"
        rows.append((at, {"card_no": card, "name": name, "mobile": mobile,
                          "gender": r.choice([{"M": "男", "F": "女"}[pr.gender]] * 8 + ["未知", ""]),
                          "birthday": birthday, "store": r.choice(_STORES), "opened": at.date(),
                          "spend": round(r.uniform(0, 20000), 2), "points": r.randint(0, 20000),
                          "tier": r.choice(["普卡", "银卡", "金卡", "钻石卡"]), "guide": r.choice(_STAFF),
                          "_shared": g.last_shared}, pr.pid))
    return rows


def crm_rows(g: Gen, pr: Person) -> list[Row]:
    r = g.r
    rows = []
    n = 2 if g.p(0.06) else 1
    has_id = g.p(0.35)
    has_union = g.p(0.25)
    for k in range(n):
        at = g.when(datetime(2020, 1, 1))
        name = _shown_name(g, pr, 0.03, 0.02)
        if g.p(0.06):
            name = pinyin_name(r, pr.name)
        m = g.phone_at(pr, at)
        shared = g.last_shared
        m = typo_phone(r, m) if g.p(0.02) else m
        mobile = format_phone(r, m, [("plain", 55), ("+86", 12), ("+86 ", 10), ("dash", 10), ("0086", 3), ("(+86)", 5),
                                     ("space", 5)]) if g.p(0.95) else r.choice(_PLACEHOLDERS + [""])
        idn = ""
        if has_id:
            idn = pr.id_number if g.p(0.9) else pr.id_number[:-1] + pr.id_number[-1].lower() \
                if pr.id_number.endswith("X") else f"{pr.id_number[:6]} {pr.id_number[6:14]} {pr.id_number[14:]}"
        elif g.p(0.03):
            idn = r.choice(_PLACEHOLDERS)
        d = pr.home.district
        prov = d[0] if g.p(0.7) else d[1]
        city = d[2] if g.p(0.7) else d[3]
        address = detail_address(r, pr.home) if g.p(0.85) else r.choice(_PLACEHOLDERS + [""])
        if g.p(0.01):
            prov, city, address = traditional(prov), traditional(city), traditional(address)
        b = pr.birth
        birth = (f"{b:%Y-%m-%d}" if g.p(0.7) else f"{b.year}/{b.month}/{b.day}") if has_id or g.p(0.5) else ""
        rows.append((at, {"customer_no": f"C{r.randint(10 ** 7, 10 ** 8 - 1)}", "name": name, "mobile": mobile,
                          "email": (pr.email if pr.email and g.p(0.8) else
                                    r.choice(_PLACEHOLDERS + ["", "", ""]) if g.p(0.1) else ""),
                          "id_number": idn, "gender": r.choice([{"M": "男", "F": "女"}[pr.gender]] * 3 +
                                                                [{"M": "M", "F": "F"}[pr.gender]]),
                          "birth_date": birth, "province": prov, "city": city, "district": d[4], "address": address,
                          "unionid": pr.unionid if has_union and k == 0 else "",
                          "tier": r.choice(["A", "B", "C", "VIP"]), "created": fmt_dt(at),
                          "note": r.choice(["", "", "", "老客户", "介绍人：" + r.choice(_STAFF), "投诉过物流",
                                            "不要电话营销"]), "_shared": shared}, pr.pid))
    return rows


_ISSUES = {"物流查询": ["快递三天没动了", "物流显示签收但没收到", "想改收货地址"],
           "退换货": ["收到的商品破损，要求换货", "尺寸不合适想退货", "少发了一件赠品"],
           "会员积分": ["积分没有到账", "会员等级没升级", "门店消费没积分"],
           "产品咨询": ["敏感肌能用吗", "保质期多久", "有没有小样"],
           "投诉": ["店员态度不好", "重复扣款", "电话骚扰太多，要求退订短信"]}


def ticket_rows(g: Gen, pr: Person) -> list[Row]:
    r = g.r
    rows = []
    n = 1 + (min(int(r.expovariate(1 / 0.6)), 3) if g.p(0.3) else 0)
    for _ in range(n):
        at = g.when(datetime(2022, 1, 1))
        surname, _given = split_name(pr.name)
        if g.p(0.08):
            surname = typo_name(r, surname)
        k = r.random()
        if k < 0.68:
            title = (r.choices(["先生", "总", "老师", "哥"], [70, 15, 8, 7])[0] if pr.gender == "M"
                     else r.choices(["女士", "小姐", "老师", "姐", "总"], [60, 20, 8, 7, 5])[0])
            sal = surname + title
        elif k < 0.88:
            sal = _shown_name(g, pr, 0.05)
        elif k < 0.93:
            sal = pr.name + ("先生" if pr.gender == "M" else "女士")
        elif k < 0.97:
            sal = ""
        else:
            sal = r.choice(["客户", "顾客", "匿名"])
        pk = r.random()
        g.last_shared = False
        if pk < 0.72:
            m = g.phone_at(pr, at)
            mobile = format_phone(r, typo_phone(r, m) if g.p(0.025) else m,
                                  [("plain", 80), ("+86", 8), ("dash", 7), ("space", 5)])
        elif pk < 0.82:
            mobile = f"0{r.choice(['755', '20', '571', '10', '21', '28'])}-{r.randint(2000_0000, 8999_9999)}"
        elif pk < 0.87:
            mobile = mask_phone(g.phone_at(pr, at))
        else:
            mobile = ""
        kind = r.choice(list(_ISSUES))
        text = r.choice(_ISSUES[kind])
        order_ref = r.choice(pr.order_nos) if pr.order_nos and g.p(0.5) else ""
        if order_ref and g.p(0.3):
            text += f"，订单号{order_ref}"
        no = (f"GD{at:%Y%m%d}{r.randint(0, 99999):05d}" if g.h["ticket"]["ticket_no"] == "工单号" and g.p(0.7)
              else str(r.randint(10 ** 15, 10 ** 16 - 1)))
        rows.append((at, {"ticket_no": no, "salutation": sal, "mobile": mobile,
                          "id_number": (pr.id_number if g.p(0.9) else pr.id_number.lower()) if g.p(0.12) else "",
                          "email": pr.email if pr.email and g.p(0.2) else "", "order_ref": order_ref, "kind": kind,
                          "text": text, "created": fmt_dt(at), "status": r.choice(["已解决", "已关闭", "处理中", "待回访"]),
                          "agent": r.choice(_STAFF), "_shared": g.last_shared}, pr.pid))
    return rows


# ---------------------------------------------------------------------------------------------
# the workspace
# ---------------------------------------------------------------------------------------------

def _channels_of(g: Gen) -> list[str]:
    k = g.r.choices([1, 2, 3, 4], weights=[77, 17, 4.5, 1.5])[0]
    chosen: list[str] = []
    while len(chosen) < k:
        weights = {c: w for c, w in _CH_WEIGHT.items() if c not in chosen}
        for c in chosen:
            for other, factor in _AFFINITY.get(c, {}).items():
                if other in weights:
                    weights[other] *= factor
        chosen.append(g.r.choices(list(weights), weights=list(weights.values()))[0])
    return chosen


def build(n_people: int, seed: int, profile: str = "harsh") -> tuple[Gen, dict[str, list[Row]]]:
    g = Gen(seed, profile)
    people = [g.person(i) for i in range(1, n_people + 1)]
    outsiders = [g.person(900_000 + i) for i in range(max(50, n_people // 10))]   # receivers who are no customer
    # households: spouses / parent and grown child at one address; some register with the family phone
    order = list(range(n_people))
    g.r.shuffle(order)
    i = 0
    while i < len(order) * g.k["households"]:
        a, b = people[order[i]], people[order[i + 1]]
        b.home = a.home
        if g.p(0.4):  # parent and child share the surname
            b.name = g.name(b.gender, b.birth, split_name(a.name)[0])
        a.household.append(b)
        b.household.append(a)
        if g.p(g.k["family_phone"]):
            b.shared_phone = a.phone
        i += 2
    by_channel: dict[str, list[Row]] = {c: [] for c in CHANNELS}
    assigned = [(pr, _channels_of(g)) for pr in people]
    makers = {"mini": mini_rows, "oa": oa_rows, "douyin": douyin_rows, "pos": pos_rows, "crm": crm_rows}
    for pr, chans in assigned:
        for c in chans:
            if c == "tmall":
                by_channel[c] += tmall_rows(g, pr, people, outsiders)
            elif c in makers:
                by_channel[c] += makers[c](g, pr)
    for pr, chans in assigned:   # after the orders, so a ticket can quote one
        if "ticket" in chans:
            by_channel["ticket"] += ticket_rows(g, pr)
    for c, rows in by_channel.items():
        rows.sort(key=lambda t: t[0], reverse=(c == "tmall"))   # Tmall lists the newest order first
    return g, by_channel


def _fix_zip_times(path: Path) -> None:
    """openpyxl stamps the zip members with the current time: rewrite them with a fixed one."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, payload in members:
            if info.filename == "docProps/core.xml":   # openpyxl sets `modified` to now on save
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-05-31T22:00:00Z", payload)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 5, 31, 22, 0, 0))
            fixed.compress_type, fixed.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            z.writestr(fixed, payload)


def hidden_notes(n_people: int, seed: int, profile: str = "harsh") -> dict[tuple[str, int], dict]:
    """What the files do not say, per (file, row_number): `_shared` (the phone given is a household member's),
    `_gift` (Tmall: the receiver's person id when the order went to someone else) and `_gift_kind`
    (household, customer or outsider). For diagnosis only; regenerated from the same arguments."""
    _g, by_channel = build(n_people, seed, profile)
    return {(CHANNELS[c][0], i): {k: v for k, v in row.items() if k.startswith("_")}
            for c, rows in by_channel.items() for i, (_, row, _pid) in enumerate(rows, start=1)}


def generate(n_people: int, seed: int, out_dir: Path, profile: str = "harsh") -> list[Path]:
    """Write the seven channel exports and truth.csv into out_dir; return the export paths."""
    import openpyxl

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    g, by_channel = build(n_people, seed, profile)
    paths, truth = [], []
    for c, (file_name, encoding, _channel) in CHANNELS.items():
        roles = list(VARIANTS[c])
        header = [g.h[c][role] for role in roles]
        path = out_dir / file_name
        rows = by_channel[c]
        if encoding == "xlsx":
            wb = openpyxl.Workbook(write_only=True)
            wb.properties.created = wb.properties.modified = END   # byte-for-byte repeatable
            ws = wb.create_sheet("会员资料")
            ws.append([f"门店会员资料导出（导出时间：{END:%Y-%m-%d %H:%M}，共{len(rows)}条）"])
            ws.append(header)
            for _, row, _pid in rows:
                ws.append([row[role] for role in roles])
            wb.save(path)
            _fix_zip_times(path)
        else:
            with path.open("w", encoding=encoding, newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                for _, row, _pid in rows:
                    w.writerow([row[role] for role in roles])
        truth += [(file_name, i, pid) for i, (_, _, pid) in enumerate(rows, start=1)]
        paths.append(path)
    with (out_dir / "truth.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "row_number", "person_id"])
        w.writerows(truth)
    return paths


if __name__ == "__main__":
    import sys
    import time

    started = time.perf_counter()
    out = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 3000, int(sys.argv[2]) if len(sys.argv) > 2 else 7,
                   Path(sys.argv[3]) if len(sys.argv) > 3 else Path("/tmp/channelgen"))
    print(f"{time.perf_counter() - started:.1f} s", *out, sep="\n")


# ---------------------------------------------------------------------------------------------
# scoring per channel pair
# ---------------------------------------------------------------------------------------------

def pair_counts(groups: dict) -> Counter:
    """Pairs per channel pair within each group (a {channel: count} per group)."""
    out: Counter = Counter()
    for cnt in groups.values():
        chans = sorted(cnt, key=list(CHANNELS).index)
        for i, a in enumerate(chans):
            out[(a, a)] += cnt[a] * (cnt[a] - 1) // 2
            for b in chans[i + 1:]:
                out[(a, b)] += cnt[a] * cnt[b]
    return out


def by_channel_pair(cluster_of: dict, truth_of: dict, channel_of: dict) -> dict:
    """Per channel pair ('mini/tmall'): true pairs, pairs the clusters link correctly (`linked`),
    pairs they predict and the false ones; pairs of the clusters' transitive closure."""
    groups: dict = defaultdict(Counter)
    persons: dict = defaultdict(Counter)
    both: dict = defaultdict(Counter)
    for key, c in cluster_of.items():
        ch, p = channel_of[key], truth_of[key]
        groups[c][ch] += 1
        persons[p][ch] += 1
        both[(c, p)][ch] += 1
    true, predicted, correct = pair_counts(persons), pair_counts(groups), pair_counts(both)
    return {"/".join(cp): {"true": true[cp], "linked": correct[cp], "predicted": predicted[cp],
                           "false": predicted[cp] - correct[cp]} for cp in set(true) | set(predicted)}
