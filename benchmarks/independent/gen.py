#!/usr/bin/env python3
"""Independent seeded generator of 7 Chinese channel exports + truth.csv.

Written by a tester who had not read the product's own generators (governance/synth.py,
tests/channelgen.py), its normalizers or its OneID code, from the description of the channels in
issue 14; kept here so that a later round can measure against data the product was not built on.
Run it with run.sh and score.py (docs/benchmarks.md, "A second independent generator").

usage: gen.py OUTDIR [--seed S] [--people N]

Writes into OUTDIR:
  wx_mini_members_20240630.csv      WeChat mini-program members (UTF-8 BOM), two app ids
  gzh_fans_export.csv               WeChat official-account fans (UTF-8)
  douyin_laike_leads_2024Q2.csv     Douyin 来客 leads (UTF-8)
  ExportOrderList202406301830.csv   Tmall orders (GBK, ="..." order numbers)
  pos_members.xlsx                  POS member sheet, title row above header
  crm_customers_full.csv            CRM full records (UTF-8)
  kefu_tickets.csv                  service tickets (UTF-8, multi-line text)
  truth.csv                         file,row_number,person_id
  meta.csv                          per-record generation notes (for diagnosis only)
  people.csv                        the population (for diagnosis only)
"""
import argparse
import csv
import datetime as dt
import os
import random
import string

from pypinyin import lazy_pinyin

REF = dt.date(2024, 6, 30)

# ---------------------------------------------------------------- names
SURNAMES = """王 71|李 70|张 67|刘 54|陈 45|杨 31|黄 22|赵 20|吴 20|周 19|徐 17|孙 15|马 15|朱 14|胡 13|郭 12|何 12|林 11|高 11|罗 10|郑 10|梁 9|谢 8|宋 8|唐 8|许 7|韩 7|邓 7|冯 7|曹 7|彭 6|曾 6|肖 6|田 6|董 5|潘 5|袁 5|蔡 5|蒋 5|余 5|于 5|杜 5|叶 5|程 4|魏 4|苏 4|吕 4|丁 4|任 4|卢 4|姚 4|沈 4|钟 4|姜 4|崔 4|谭 3|陆 3|范 3|汪 3|廖 3|石 3|金 3|韦 3|贾 3|夏 3|付 3|方 3|邹 2|熊 2|白 2|孟 2|秦 2|邱 2|侯 2|江 2|尹 2|薛 2|闫 2|段 2|雷 2|龙 2|黎 2|史 2|陶 2|贺 2|毛 2|郝 2|顾 2|龚 2|邵 2|万 1|覃 1|武 1|钱 1|戴 1|严 1|欧阳 0.5|司马 0.15|上官 0.15|诸葛 0.1"""
SURNAMES = [(s.split()[0], float(s.split()[1])) for s in SURNAMES.split("|")]

# popular full given names (zipf-weighted by list order)
POP_M = ("伟 强 磊 军 勇 杰 涛 明 超 刚 平 辉 鹏 华 飞 鑫 波 斌 宇 浩 凯 健 俊 帆 亮 林 成 东 峰 建华 建国 志强 志明 俊杰 "
         "子轩 浩然 宇轩 一鸣 家豪 文博 天佑 建军 海涛 晓东 国强 永刚 德华 明辉 子豪 梓睿 思远 博文 皓轩 晨 阳 龙 毅 翔 "
         "建平 小龙 文杰 海波 志刚 永强 立新 国庆 红军 卫东").split()
POP_F = ("芳 娜 敏 静 丽 艳 娟 霞 秀英 秀兰 桂英 玉兰 婷 雪 琳 颖 倩 洁 晶 燕 红 玲 萍 慧 欣怡 梓涵 子涵 诗涵 雨桐 "
         "欣妍 一诺 佳怡 思琪 晓燕 晓丽 丽娟 美玲 婉婷 雅静 梦洁 凤英 淑华 海燕 春梅 丹 莉 媛 蕾 佳 悦 楠 琴 晓红 "
         "丽华 秀珍 玉梅 金凤 小红 美华 雅琪 可欣 紫涵 梦琪 心怡 雨萱").split()
CH_M = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆亮林成东峰志国建文博天佑海晓永德嘉睿思远皓轩晨阳龙毅翔金振兴家旭宏泽锋炜彬森荣".replace(" ", "")
CH_F = "芳娜敏静丽艳娟霞秀英兰桂玉婷雪琳颖倩洁晶燕红玲萍慧欣怡梓涵诗雨桐妍诺佳琪晓美婉雅梦凤淑春梅丹莉媛蕾悦楠琴璐瑶露薇岚菲".replace(" ", "")

_S = "陈张刘黄杨赵吴郑罗孙马许韩邓冯谢叶苏卢钟伟丽华军红刚涛辉鹏飞东艳颖晓杰国兰凤梦诗静洁云龙庆宁凯轩婷贵义乐书伦业丰"
_T = "陳張劉黃楊趙吳鄭羅孫馬許韓鄧馮謝葉蘇盧鍾偉麗華軍紅剛濤輝鵬飛東艷穎曉傑國蘭鳳夢詩靜潔雲龍慶寧凱軒婷貴義樂書倫業豐"
assert len(_S) == len(_T), (len(_S), len(_T))
TRAD = dict(zip(_S, _T))

HOMO = {"伟": "玮炜", "芳": "方", "静": "晶婧", "丽": "莉", "敏": "民", "娟": "鹃", "杰": "洁捷", "军": "君均",
        "涛": "韬", "明": "鸣", "超": "潮", "刚": "钢", "平": "萍", "辉": "晖", "鹏": "朋", "华": "桦", "飞": "菲",
        "波": "博", "斌": "彬", "宇": "雨羽", "浩": "皓昊", "凯": "恺", "健": "建", "俊": "骏", "亮": "靓",
        "林": "琳霖", "成": "诚", "东": "冬", "峰": "锋枫", "娜": "纳", "艳": "燕", "霞": "侠", "英": "瑛",
        "兰": "岚", "婷": "亭", "雪": "学", "琳": "林", "颖": "莹", "倩": "茜", "晶": "静", "燕": "艳",
        "红": "虹宏", "玲": "铃琳", "萍": "平", "慧": "惠蕙", "欣": "新馨", "怡": "宜", "涵": "函", "桐": "彤",
        "妍": "研", "佳": "嘉", "琪": "琦淇", "晓": "小", "美": "梅", "婉": "琬", "雅": "亚", "梦": "孟",
        "洁": "杰", "凤": "风", "淑": "书", "梅": "美", "子": "梓", "轩": "萱", "一": "依", "家": "佳",
        "豪": "浩", "文": "雯", "博": "波", "天": "添", "建": "健", "国": "帼", "志": "智", "德": "得",
        "思": "斯", "远": "源", "睿": "瑞", "皓": "浩", "鑫": "新", "秀": "绣", "张": "章", "王": "汪",
        "刘": "柳", "陈": "程", "李": "黎", "雨": "语", "诗": "思", "丹": "单", "莉": "丽", "楠": "南"}

ENGLISH = "Tony Cindy Lily Kevin Amy Jack Linda Grace Eric Vivian Jason Coco Sunny Leo Mia Ella Jerry Helen Peter Anna".split()
PHRASES = ("岁月静好 平安是福 开心每一天 阳光总在风雨后 小确幸 淡然 随缘 向日葵 追风少年 一只猫 简单就好 花开半夏 "
           "浅笑安然 知足常乐 静待花开 时光 微笑 晴天 守望幸福 海阔天空 云淡风轻 心若向阳 初心 梦想家 小太阳 "
           "奶茶续命 暴躁的小熊 快乐肥宅 橘子汽水 一颗柠檬 夏天的风 不吃香菜 早睡早起 努力的小蜗牛 "
           "木子 老王 大白 小鱼儿 糖豆 豆豆 果果 乐乐 宝宝 大海 星空 雨后彩虹 兰花草 荷塘月色 茶香 "
           "福满堂 好运来 家和万事兴 天道酬勤 厚德载物 宁静致远 上善若水 清风 明月 静心 "
           "Lucky 自由自在 风一样的女子 甜甜 二哈 大头 阿杰 阿芳 小龙女 美美哒").split()
EMOJI = ["🌸", "🍀", "🌙", "☀️", "🐱", "🌹", "✨", "💕", "🍓", "🌈"]

# ------------------------------------------------------------- geography
GEO = [
    ("广东省", "深圳市", [("南山区", "440305", "粤海街道"), ("福田区", "440304", "香蜜湖街道"), ("罗湖区", "440303", "东门街道"),
                        ("宝安区", "440306", "新安街道"), ("龙岗区", "440307", "坂田街道")], 14),
    ("广东省", "广州市", [("天河区", "440106", "石牌街道"), ("越秀区", "440104", "北京街道"), ("海珠区", "440105", "江海街道"),
                        ("白云区", "440111", "三元里街道"), ("番禺区", "440113", "市桥街道")], 12),
    ("上海市", "上海市", [("浦东新区", "310115", "张江镇"), ("徐汇区", "310104", "徐家汇街道"), ("闵行区", "310112", "莘庄镇"),
                        ("静安区", "310106", "南京西路街道")], 12),
    ("北京市", "北京市", [("朝阳区", "110105", "望京街道"), ("海淀区", "110108", "中关村街道"), ("东城区", "110101", "东华门街道"),
                        ("丰台区", "110106", "方庄街道")], 10),
    ("浙江省", "杭州市", [("西湖区", "330106", "文新街道"), ("上城区", "330102", "湖滨街道"), ("滨江区", "330108", "长河街道"),
                        ("余杭区", "330110", "五常街道")], 8),
    ("江苏省", "南京市", [("鼓楼区", "320106", "湖南路街道"), ("玄武区", "320102", "新街口街道")], 4),
    ("江苏省", "苏州市", [("姑苏区", "320508", "平江街道"), ("吴中区", "320506", "长桥街道")], 4),
    ("四川省", "成都市", [("武侯区", "510107", "玉林街道"), ("锦江区", "510104", "春熙路街道"), ("成华区", "510108", "猛追湾街道")], 7),
    ("湖北省", "武汉市", [("武昌区", "420106", "中南路街道"), ("洪山区", "420111", "珞南街道"), ("江汉区", "420103", "民族街道")], 6),
    ("湖南省", "长沙市", [("岳麓区", "430104", "橘子洲街道"), ("天心区", "430103", "坡子街街道")], 4),
    ("福建省", "厦门市", [("思明区", "350203", "中华街道"), ("湖里区", "350206", "殿前街道")], 3),
    ("山东省", "青岛市", [("市南区", "370202", "八大关街道")], 3),
    ("河南省", "郑州市", [("金水区", "410105", "经八路街道")], 3),
    ("陕西省", "西安市", [("雁塔区", "610113", "小寨路街道")], 3),
    ("重庆市", "重庆市", [("渝中区", "500103", "解放碑街道"), ("江北区", "500105", "观音桥街道")], 4),
    ("天津市", "天津市", [("和平区", "120101", "小白楼街道")], 2),
]
# extra birthplace codes (rural hometowns) for ID numbers
BIRTH_CODES = ["430521", "430524", "421281", "412724", "411323", "511304", "510922", "360124", "362202", "452123",
               "341222", "372928", "130682", "142625", "622421", "441581", "445281", "350583", "320382", "330382"]
ROADS = "科技园路 深南大道 中山路 解放路 人民路 建设路 文化路 新华路 长江路 黄河路 和平路 胜利路 青年路 学府路 滨河路 花园路 南京路 东风路 迎宾大道 工业大道".split()
ESTATES = "阳光花园 碧桂园 万科城 华润城 翠湖苑 金色家园 锦绣江南 丽景湾 幸福里 绿地城 保利香槟 恒大名都 中海华庭 龙湖天街 融创壹号 世纪新城 东方明珠苑 桃源居 星河湾 美丽家园".split()
STORES = {"深圳市": ["深圳万象城店", "深圳海岸城店", "深圳COCOPARK店"], "广州市": ["广州天河城店", "广州正佳店"],
          "上海市": ["上海来福士店", "上海环球港店"], "北京市": ["北京西单店", "北京三里屯店"], "杭州市": ["杭州湖滨银泰店"],
          "成都市": ["成都春熙路店"], "武汉市": ["武汉楚河汉街店"]}
ALL_STORES = [s for v in STORES.values() for s in v]
STAFF = ["李娜", "王静", "张敏", "刘洋", "陈晨", "黄丽", "周婷", "吴磊", "赵倩", "孙悦"]

MOBILE_PREFIX = ("130 131 132 133 134 135 136 137 138 139 145 147 150 151 152 153 155 156 157 158 159 166 "
                 "173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 193 195 198 199").split()

EMAIL_DOM = [("qq.com", 40), ("163.com", 25), ("126.com", 8), ("sina.com", 4), ("gmail.com", 5), ("hotmail.com", 4),
             ("foxmail.com", 4), ("139.com", 3), ("outlook.com", 3), ("yeah.net", 2)]


def wchoice(rng, items):
    tot = sum(w for _, w in items)
    x = rng.random() * tot
    for it, w in items:
        x -= w
        if x <= 0:
            return it
    return items[-1][0]


def zipf_pick(rng, lst, s=1.0):
    ws = [1.0 / (i + 1) ** s for i in range(len(lst))]
    return wchoice(rng, list(zip(lst, ws)))


def id_check(first17):
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    s = sum(int(a) * b for a, b in zip(first17, w))
    return "10X98765432"[s % 11]


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)


class Person:
    pass


class Gen:
    def __init__(self, seed, n):
        self.rng = random.Random(seed)
        self.n = n
        self.used_mobiles = set()
        self.used_ids = set()
        self.people = []
        self.meta = []  # per record notes

    # ---------------------------------------------------------- primitives
    def mobile(self):
        r = self.rng
        while True:
            m = r.choice(MOBILE_PREFIX) + "".join(r.choice(string.digits) for _ in range(8))
            if m not in self.used_mobiles:
                self.used_mobiles.add(m)
                return m

    def landline(self, city):
        area = {"深圳市": "0755", "广州市": "020", "上海市": "021", "北京市": "010", "杭州市": "0571", "南京市": "025",
                "苏州市": "0512", "成都市": "028", "武汉市": "027", "长沙市": "0731", "厦门市": "0592", "青岛市": "0532",
                "郑州市": "0371", "西安市": "029", "重庆市": "023", "天津市": "022"}[city]
        n = 8 if len(area) == 3 else 7 if city in ("厦门市",) else 8
        return area, str(self.rng.randint(2, 8)) + "".join(self.rng.choice(string.digits) for _ in range(n - 1))

    def given(self, gender):
        r = self.rng
        if r.random() < 0.30:
            return zipf_pick(r, POP_M if gender == "M" else POP_F, 0.6)
        pool = CH_M if gender == "M" else CH_F
        if r.random() < 0.25:
            return r.choice(pool)
        return r.choice(pool) + r.choice(pool)

    def surname(self):
        return wchoice(self.rng, SURNAMES)

    def openid(self):
        r = self.rng
        return "o" + "".join(r.choice(string.ascii_letters + string.digits + "-_") for _ in range(27))

    def nickname(self, p):
        r = self.rng
        x = r.random()
        if x < 0.10:
            return p.name
        if x < 0.16:
            g = p.given
            return (g[-1] * 2) if r.random() < 0.5 else ("小" + g[-1])
        if x < 0.26:
            if r.random() < 0.5:
                return r.choice(ENGLISH)
            return p.py_given.capitalize() + "_" + p.py_sur if r.random() < 0.5 else p.py_sur + p.py_given + str(p.birth.year % 100)
        if x < 0.62:
            return zipf_pick(r, PHRASES, 0.7)
        if x < 0.82:
            return r.choice(EMOJI) + zipf_pick(r, PHRASES, 0.7)
        if x < 0.90:
            return "A" + r.choice(["-", ".", ""]) + p.name + r.choice(["", "-美妆", "-保险", "~"])
        return zipf_pick(r, PHRASES, 0.7) + str(r.randint(1, 999))

    def tb_nick(self, p):
        r = self.rng
        x = r.random()
        if x < 0.3:
            return "tb" + "".join(r.choice(string.digits) for _ in range(10))
        if x < 0.6:
            return p.py_sur + p.py_given + r.choice(["", "_", "1"]) + str(r.randint(1, 9999))
        return zipf_pick(r, PHRASES, 0.7) + str(r.randint(100, 99999))

    def email(self, p):
        r = self.rng
        dom = wchoice(r, EMAIL_DOM)
        if dom == "qq.com" and r.random() < 0.8:
            return str(r.randint(100000, 3999999999)) + "@qq.com"
        local = r.choice([p.py_sur + p.py_given, p.py_given + "." + p.py_sur, p.py_sur + p.py_given[:1]])
        if r.random() < 0.6:
            local += str(p.birth.year) if r.random() < 0.5 else str(r.randint(1, 999))
        return local + "@" + dom

    def address_line(self, p, style):
        # style: 'full' province city district street, 'tmall' with spaces, 'street' only
        h = p.home
        street = f"{h['road']}{h['no']}号{h['estate']}{h['bld']}栋{h['unit']}单元{h['room']}"
        if style == "street":
            return street
        if style == "tmall":
            return f"{h['prov']} {h['city']} {h['dist']} {h['town']} {street} 000000"
        if style == "full":
            city = "" if h["prov"] == h["city"] else h["city"]
            return f"{h['prov']}{city}{h['dist']}{street}"
        return street

    # ---------------------------------------------------------- population
    def new_home(self):
        r = self.rng
        prov, city, dists, _ = wchoice(r, [(g, g[3]) for g in GEO])
        dist, code, town = r.choice(dists)
        return dict(prov=prov, city=city, dist=dist, code=code, town=town, road=r.choice(ROADS),
                    no=r.randint(1, 999), estate=r.choice(ESTATES), bld=r.randint(1, 30), unit=r.randint(1, 4),
                    room=f"{r.randint(1, 33)}{r.randint(1, 4):02d}")

    def make_person(self, gender, age, home, surname=None):
        r = self.rng
        p = Person()
        p.pid = f"P{len(self.people) + 1:06d}"
        p.gender = gender
        p.sur = surname or self.surname()
        p.given = self.given(gender)
        p.name = p.sur + p.given
        p.py_sur = "".join(lazy_pinyin(p.sur))
        p.py_given = "".join(lazy_pinyin(p.given))
        y = REF.year - age
        p.birth = dt.date(y, 1, 1) + dt.timedelta(days=r.randint(0, 364))
        p.home = home
        bcode = home["code"] if r.random() < 0.6 else r.choice(BIRTH_CODES + [g[2][0][1] for g in GEO])
        while True:
            seq = r.randint(0, 99)
            sx = r.choice("13579" if gender == "M" else "02468")
            f17 = bcode + p.birth.strftime("%Y%m%d") + f"{seq:02d}" + sx
            if f17 not in self.used_ids:
                self.used_ids.add(f17)
                break
        p.id_card = f17 + id_check(f17)
        p.mobile = self.mobile() if r.random() > 0.03 or age < 65 else None
        p.old_mobile = self.mobile() if r.random() < 0.12 else None
        p.change_date = dt.date(2019, 1, 1) + dt.timedelta(days=r.randint(0, 1600)) if p.old_mobile else None
        p.second_mobile = self.mobile() if r.random() < 0.07 else None
        p.email = self.email(p) if r.random() < 0.45 else None
        p.unionid = ("o" + "".join(r.choice(string.ascii_letters + string.digits + "_-") for _ in range(27))) if r.random() < 0.92 else None
        p.wx_nick = self.nickname(p)
        p.dy_uid = str(r.randint(10 ** 10, 10 ** 11 - 1)) if r.random() < 0.7 else "MS4wLjABAAAA" + "".join(r.choice(string.ascii_letters + string.digits + "_-") for _ in range(20))
        x = r.random()
        p.dy_nick = p.wx_nick if x < 0.35 else ("用户" + str(r.randint(10 ** 9, 10 ** 10 - 1)) if x < 0.55 else self.nickname(p))
        p.tb_nick = self.tb_nick(p)
        p.openids = {}
        p.household = None
        p.family_phone = None
        p.landline = None
        self.people.append(p)
        return p

    def build_population(self):
        r = self.rng
        while len(self.people) < self.n:
            home = self.new_home()
            size = wchoice(r, [(1, 50), (2, 30), (3, 15), (4, 5)])
            hage = max(22, min(75, int(r.gauss(38, 11))))
            hg = r.choice("MF")
            head = self.make_person(hg, hage, home)
            members = [head]
            roles = ["spouse", "child", "parent"]
            for i in range(1, size):
                if len(self.people) >= self.n:
                    break
                role = roles[i - 1] if i - 1 < len(roles) else "child"
                if role == "spouse":
                    m = self.make_person("F" if hg == "M" else "M", max(20, hage + r.randint(-5, 5)), home)
                elif role == "child":
                    cage = hage - r.randint(22, 32)
                    if cage < 16:
                        cage = hage + r.randint(24, 30)  # parent instead
                        m = self.make_person(r.choice("MF"), min(85, cage), home, head.sur if r.random() < 0.5 else None)
                    else:
                        m = self.make_person(r.choice("MF"), cage, home, head.sur if hg == "M" or r.random() < 0.3 else None)
                else:
                    m = self.make_person(r.choice("MF"), min(85, hage + r.randint(24, 30)), home, head.sur if r.random() < 0.5 else None)
                members.append(m)
            hid = head.pid
            land = self.landline(home["city"]) if r.random() < 0.35 else None
            fam_phone = head.mobile if size > 1 and r.random() < 0.35 else None
            for m in members:
                m.household = hid
                m.members = members
                m.landline = land
                m.family_phone = fam_phone if fam_phone and m is not head else None
                if m.mobile is None:
                    m.family_phone = head.mobile or fam_phone
        # recycled numbers: an old number of A is now B's current number
        olds = [p for p in self.people if p.old_mobile]
        for a in olds:
            if r.random() < 0.2:
                b = r.choice(self.people)
                if b.household != a.household and b.mobile and not b.old_mobile:
                    b.old_mobile, b.change_date = b.mobile, a.change_date + dt.timedelta(days=r.randint(200, 600))
                    b.mobile = a.old_mobile  # b got A's released number
                    b.recycled_from = a.pid

    # ---------------------------------------------------------- noise helpers
    def name_variant(self, p, typo=0.03, trad=0.015, pinyin=0.0, space=0.02):
        r = self.rng
        n, kind = p.name, "name"
        x = r.random()
        if x < pinyin:
            s, g = p.py_sur.capitalize(), p.py_given.capitalize()
            v = r.random()
            n = f"{s} {g}" if v < 0.4 else (f"{g} {s}" if v < 0.6 else (f"{s.upper()} {g.upper()}" if v < 0.8 else f"{s}{g}".lower()))
            kind = "pinyin"
        elif x < pinyin + typo:
            chars = list(n)
            idxs = [i for i, c in enumerate(chars) if c in HOMO]
            if idxs:
                i = r.choice(idxs)
                chars[i] = r.choice(HOMO[chars[i]])
                n = "".join(chars)
                kind = "typo"
        elif x < pinyin + typo + trad:
            n2 = "".join(TRAD.get(c, c) for c in n)
            if n2 != n:
                n, kind = n2, "trad"
        if r.random() < space and len(n) == 2 and kind in ("name", "typo", "trad"):
            n = n[0] + " " + n[1]
        return n, kind

    def phone_for(self, p, when, typo=0.02, family=0.0, second=0.0):
        """returns (value, kind)"""
        r = self.rng
        if p.mobile is None:
            return (p.family_phone, "family") if p.family_phone else ("", "none")
        if family and p.family_phone and r.random() < family:
            return p.family_phone, "family"
        if second and p.second_mobile and r.random() < second:
            m, kind = p.second_mobile, "second"
        elif p.old_mobile and when < p.change_date:
            m, kind = p.old_mobile, "old"
        else:
            m, kind = p.mobile, "current"
        if r.random() < typo:
            d = list(m)
            if r.random() < 0.5:
                i = r.randint(3, 10)
                d[i] = r.choice([c for c in string.digits if c != d[i]])
            else:
                i = r.randint(3, 9)
                if d[i] != d[i + 1]:
                    d[i], d[i + 1] = d[i + 1], d[i]
            m = "".join(d)
            kind += "+typo"
        return m, kind

    def fmt_mobile(self, m, styles):
        r = self.rng
        st = wchoice(r, styles)
        if st == "plain":
            return m
        if st == "+86":
            return f"+86 {m[:3]} {m[3:7]} {m[7:]}"
        if st == "86":
            return "86" + m
        if st == "dash":
            return f"{m[:3]}-{m[3:7]}-{m[7:]}"
        if st == "space":
            return f"{m[:3]} {m[3:7]} {m[7:]}"
        if st == "fw":
            return fullwidth(m)
        if st == "apos":
            return "'" + m
        if st == "+86-":
            return "+86-" + m
        return m

    def ws(self, s, p=0.03):
        if s and self.rng.random() < p:
            return self.rng.choice([" ", "  ", "\t"]) + s if self.rng.random() < 0.5 else s + self.rng.choice([" ", "  "])
        return s

    def when(self, start, end=REF):
        d = (end - start).days
        return start + dt.timedelta(days=self.rng.randint(0, max(0, d)))

    def ts(self, d):
        return dt.datetime(d.year, d.month, d.day, self.rng.randint(8, 22), self.rng.randint(0, 59), self.rng.randint(0, 59))

    # ---------------------------------------------------------- record plan
    def plan(self):
        r = self.rng
        W = [("crm", 17), ("pos", 15), ("mp", 20), ("oa", 12), ("dy", 10), ("tm", 18), ("tk", 8)]
        plan = []
        for p in self.people:
            k = wchoice(r, [(1, 76), (2, 16), (3, 5), (4, 1.5), (5, 1), (6, 0.5)])
            chans = []
            while len(chans) < k:
                c = wchoice(r, W)
                if c in chans:
                    if c == "oa":
                        continue
                    if c == "mp" and chans.count("mp") >= 2:
                        continue
                    if c in ("crm", "pos") and chans.count(c) >= 2:
                        continue
                    if c == "dy" and r.random() < 0.5:
                        continue
                elif chans and "tm" in chans and r.random() < 0.35:
                    c = "tm"  # repeat buyers
                chans.append(c)
            for c in chans:
                plan.append((c, p))
        r.shuffle(plan)
        return plan

    # ---------------------------------------------------------- channel writers
    def write_all(self, out):
        plan = self.plan()
        by = {}
        for c, p in plan:
            by.setdefault(c, []).append(p)
        self.truth = []
        self.w_mp(out, by.get("mp", []))
        self.w_oa(out, by.get("oa", []))
        self.w_dy(out, by.get("dy", []))
        self.w_tm(out, by.get("tm", []))
        self.w_pos(out, by.get("pos", []))
        self.w_crm(out, by.get("crm", []))
        self.w_tk(out, by.get("tk", []))
        with open(os.path.join(out, "truth.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["file", "row_number", "person_id"])
            w.writerows(self.truth)
        with open(os.path.join(out, "meta.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["file", "row_number", "person_id", "phone_kind", "name_kind", "receiver_pid", "note"])
            w.writerows(self.meta)
        with open(os.path.join(out, "people.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["person_id", "name", "gender", "birth", "mobile", "old_mobile", "second_mobile", "family_phone",
                        "id_card", "unionid", "household", "city", "recycled_from"])
            for p in self.people:
                w.writerow([p.pid, p.name, p.gender, p.birth, p.mobile, p.old_mobile, p.second_mobile, p.family_phone,
                            p.id_card, p.unionid, p.household, p.home["city"], getattr(p, "recycled_from", "")])

    def rec(self, fname, rown, p, phone_kind="", name_kind="", receiver="", note=""):
        self.truth.append((fname, rown, p.pid))
        self.meta.append((fname, rown, p.pid, phone_kind, name_kind, receiver, note))

    def w_mp(self, out, ps):
        r = self.rng
        fname = "wx_mini_members_20240630.csv"
        apps = ["wx8f3a2b1c4d5e6f70", "wx2c9d0e1f3a4b5c61"]
        hdr = ["会员编号", "用户openid", "UnionId", "微信昵称", "绑定手机", "姓名(实名)", "性别", "appid", "注册时间", "会员等级", "可用积分", "城市"]
        rows = []
        seen = {}
        for p in ps:
            used = seen.setdefault(p.pid, set())
            app = apps[0] if (apps[0] not in used and (r.random() < 0.7 or apps[1] in used)) else apps[1]
            used.add(app)
            oid = p.openids.setdefault(app, self.openid())
            reg = self.when(dt.date(2019, 6, 1))
            phone, pk = ("", "none")
            if r.random() < 0.5:
                phone, pk = self.phone_for(p, reg, typo=0.0, family=0.1, second=0.05)  # WeChat-authorised phone: no typos
            name, nk = ("", "none")
            if r.random() < 0.08:
                name, nk = self.name_variant(p, typo=0.02, pinyin=0.05)
            nick = p.wx_nick if r.random() < 0.85 else self.nickname(p)
            union = p.unionid if (p.unionid and r.random() < 0.85) else ""
            g = {"M": "1", "F": "2"}[p.gender] if r.random() < 0.6 else "0"
            city = f"{p.home['prov'][:-1] if p.home['prov'].endswith('省') else p.home['prov'][:-1]} {p.home['city'][:-1]}" if r.random() < 0.3 else ""
            rows.append([f"M{r.randint(10 ** 8, 10 ** 9 - 1)}", oid, union, nick, phone, name, g, app,
                         self.ts(reg).strftime("%Y-%m-%d %H:%M:%S"), r.choice(["普通会员", "银卡", "金卡", "黑金"]),
                         r.randint(0, 8000), city])
            self.rec(fname, len(rows), p, pk, nk, note=f"app={app} union={'y' if union else 'n'}")
        with open(os.path.join(out, fname), "w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f)
            w.writerow(hdr)
            w.writerows(rows)

    def w_oa(self, out, ps):
        r = self.rng
        fname = "gzh_fans_export.csv"
        app = "wx5e6f7a8b9c0d1e23"
        hdr = ["粉丝openid", "unionid", "粉丝昵称", "关注时间", "标签", "备注名", "关注来源", "是否取关"]
        rows = []
        for p in ps:
            oid = p.openids.setdefault(app, self.openid())
            union = p.unionid if (p.unionid and r.random() < 0.78) else ""
            sub = self.when(dt.date(2017, 1, 1))
            nick = "微信用户" if (sub > dt.date(2021, 12, 27) and r.random() < 0.6) else (p.wx_nick if r.random() < 0.9 else self.nickname(p))
            remark, nk = "", "none"
            if r.random() < 0.05:
                nm, nk = self.name_variant(p)
                remark = nm + r.choice(["", "-" + r.choice(ALL_STORES)[:-1], "(老客)", " VIP"])
            tags = ",".join(r.sample(["门店扫码", "618活动", "双11", "直播引流", "会员", "已购", "潜在客户"], r.randint(0, 2)))
            ts = int(dt.datetime(sub.year, sub.month, sub.day, r.randint(0, 23), r.randint(0, 59)).timestamp())
            rows.append([oid, union, nick, str(ts) if r.random() < 0.5 else dt.datetime.fromtimestamp(ts).strftime("%Y/%m/%d %H:%M"),
                         tags, remark, r.choice(["ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH", "ADD_SCENE_PROFILE_CARD", "ADD_SCENE_OTHERS", "扫描二维码"]),
                         "否" if r.random() < 0.9 else "是"])
            self.rec(fname, len(rows), p, "none", nk, note=f"union={'y' if union else 'n'}")
        with open(os.path.join(out, fname), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(hdr)
            w.writerows(rows)

    def region_text(self, p):
        r = self.rng
        h = p.home
        pv = h["prov"].rstrip("省市")
        ct = h["city"].rstrip("市")
        x = r.random()
        if x < 0.3:
            return f"{pv} {ct}"
        if x < 0.55:
            return f"{h['prov']}-{h['city']}"
        if x < 0.7:
            return h["city"]
        if x < 0.8:
            return f"{h['prov']}{h['city'] if h['prov'] != h['city'] else ''}{h['dist']}"
        if x < 0.9:
            return f"IP属地:{pv}"
        return ""

    def age_band(self, p, when):
        r = self.rng
        age = when.year - p.birth.year
        x = r.random()
        if x < 0.35:
            for lo, hi in [(18, 24), (25, 30), (31, 35), (36, 40), (41, 50)]:
                if lo <= age <= hi:
                    return f"{lo}-{hi}岁"
            return "50岁以上" if age > 50 else "18岁以下"
        if x < 0.6:
            dec = (p.birth.year // 10 % 10) * 10
            return f"{dec:02d}后" if p.birth.year < 2000 else "00后"
        if x < 0.75:
            lo = (age // 10) * 10
            return f"{lo}-{lo + 9}"
        return ""

    def w_dy(self, out, ps):
        r = self.rng
        fname = "douyin_laike_leads_2024Q2.csv"
        hdr = ["线索ID", "抖音UID", "抖音昵称", "联系人", "联系电话", "所在地区", "年龄段", "意向门店", "线索来源", "留资时间", "跟进状态", "备注"]
        rows = []
        for p in ps:
            t = self.when(dt.date(2023, 3, 1))
            x = r.random()
            if x < 0.4:
                cname, nk = self.name_variant(p, typo=0.03)
            elif x < 0.65:
                cname, nk = p.sur + ("先生" if p.gender == "M" else "女士"), "salutation"
            elif x < 0.85:
                cname, nk = p.dy_nick, "nickname"
            else:
                cname, nk = r.choice(["", "-", "未填写"]), "none"
            phone, pk = "", "none"
            if r.random() < 0.75:
                phone, pk = self.phone_for(p, t, typo=0.02, family=0.08, second=0.05)
                if phone and r.random() < 0.35:
                    phone = phone[:3] + "****" + phone[7:]
                    pk += "+masked"
                elif phone:
                    phone = self.fmt_mobile(phone, [("plain", 90), ("fw", 3), ("space", 4), ("+86", 3)])
            note = ""
            if r.random() < 0.05 and p.wx_nick:
                note = "微信同号" if r.random() < 0.5 else "加微信聊"
            rows.append([str(r.randint(7 * 10 ** 18, 7 * 10 ** 18 + 10 ** 17)), p.dy_uid, p.dy_nick if r.random() < 0.9 else self.nickname(p),
                         self.ws(cname), phone, self.region_text(p), self.age_band(p, t),
                         r.choice(ALL_STORES + [""]), r.choice(["短视频", "直播间", "团购核销", "企业号主页", "广告表单"]),
                         self.ts(t).strftime("%Y-%m-%d %H:%M"), r.choice(["待跟进", "已联系", "已到店", "无效"]), note])
            self.rec(fname, len(rows), p, pk, nk)
        with open(os.path.join(out, fname), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(hdr)
            w.writerows(rows)

    def outsider(self):
        r = self.rng
        g = r.choice("MF")
        s = self.surname()
        n = s + self.given(g)
        home = self.new_home()
        return n, self.mobile(), home

    def w_tm(self, out, ps):
        r = self.rng
        fname = "ExportOrderList202406301830.csv"
        hdr = ["订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "总金额", "买家实际支付金额", "订单状态", "买家留言",
               "收货人姓名", "收货地址 ", "联系电话 ", "联系手机", "订单创建时间", "订单付款时间 ", "宝贝标题 ", "宝贝种类", "物流单号 ", "订单备注"]
        rows = []
        GIFT_NOTES = ["送朋友的生日礼物，请不要放发票", "礼物，帮忙包装一下谢谢", "给妈妈买的，别放价格单", "送人的，不要放发票",
                      "生日礼物 请附贺卡：生日快乐", "给老公的礼物"]
        SELF_NOTES = ["尽快发货", "周末送货", "请用顺丰", "放快递柜", "多送点小样", "发票抬头个人"]
        for p in ps:
            t = self.when(dt.date(2021, 1, 1))
            x = r.random()
            receiver_pid = ""
            kind = "self"
            if x < 0.12:  # gift / order for someone else
                kind = "gift"
                y = r.random()
                others = [m for m in p.members if m is not p]
                if y < 0.5 and others:
                    q = r.choice(others)
                elif y < 0.8:
                    q = r.choice(self.people)
                    if q is p:
                        q = None
                else:
                    q = None
                if q is not None:
                    rn, _ = self.name_variant(q)
                    rm, pk = self.phone_for(q, t, typo=0.0)
                    addr = self.address_line(q, "tmall")
                    receiver_pid = q.pid
                else:
                    rn, rm, home = self.outsider()
                    pk = "outsider"
                    fake = Person()
                    fake.home = home
                    addr = self.address_line(fake, "tmall")
                    receiver_pid = "OUT"
                    # outsider home fields need estate etc.
                note = r.choice(GIFT_NOTES) if r.random() < 0.45 else ""
            else:
                rn, nk = self.name_variant(p, typo=0.02, trad=0.01, pinyin=0.01)
                if r.random() < 0.03:
                    rn = p.sur + ("先生" if p.gender == "M" else "小姐")
                rm, pk = self.phone_for(p, t, typo=0.01, second=0.10)
                addr = self.address_line(p, "tmall") if r.random() < 0.85 else (
                    f"{p.home['prov']} {p.home['city']} {p.home['dist']} {p.home['town']} {r.choice(ROADS)}{r.randint(1, 500)}号{r.choice(['创新大厦', '国际中心', '科技园'])}{r.randint(1, 30)}楼 000000")
                note = r.choice(SELF_NOTES) if r.random() < 0.12 else ""
            # payment account: masked buyer mobile, sometimes from another number
            y = r.random()
            if y < 0.55 and (p.mobile or p.second_mobile):
                pay_m = p.mobile or p.second_mobile
                if p.second_mobile and r.random() < 0.25:
                    pay_m = p.second_mobile
                    kind += "+paysecond"
                pay = pay_m[:3] + "****" + pay_m[7:]
            elif y < 0.75 and p.email:
                e = p.email
                pay = e[:3] + "***" + e[e.index("@"):]
            else:
                pay = ""
            if rm and r.random() < 0.06:
                rm = "1" + r.choice(["70", "71", "84"]) + "".join(r.choice(string.digits) for _ in range(8)) + "-" + str(r.randint(1000, 9999))
                pk = "virtual"
            elif rm:
                rm = self.fmt_mobile(rm, [("plain", 70), ("apos", 30)])
            amt = round(r.uniform(39, 1299), 2)
            status = r.choice(["交易成功"] * 6 + ["交易关闭", "卖家已发货，等待买家确认", "买家已付款，等待卖家发货"])
            land = ""
            if r.random() < 0.04 and p.landline and kind.startswith("self"):
                land = f"'{p.landline[0]}-{p.landline[1]}"
            t0 = self.ts(t)
            rows.append(['="%d"' % r.randint(10 ** 18, 4 * 10 ** 18), p.tb_nick, pay, f"{amt:.2f}", f"{amt + r.choice([0, 0, 10]):.2f}", f"{amt:.2f}",
                         status, note, self.ws(rn), addr, land, rm, t0.strftime("%Y-%m-%d %H:%M:%S"),
                         (t0 + dt.timedelta(minutes=r.randint(0, 90))).strftime("%Y-%m-%d %H:%M:%S"), r.choice(["水润保湿精华液30ml", "氨基酸洁面乳", "修护面霜50g", "防晒喷雾 SPF50+", "礼盒装 限定套装"]),
                         str(r.randint(1, 3)), "SF" + str(r.randint(10 ** 11, 10 ** 12)), ""])
            self.rec(fname, len(rows), p, pk, kind, receiver=receiver_pid, note=kind)
        def cell(v):
            v = str(v)
            if v.startswith('="'):
                return v  # Excel text formula, written bare as the platform does
            if any(c in v for c in ',"\n'):
                return '"' + v.replace('"', '""') + '"'
            return v
        with open(os.path.join(out, fname), "w", newline="", encoding="gbk", errors="replace") as f:
            f.write(",".join(hdr) + "\r\n")
            for row in rows:
                f.write(",".join(cell(v) for v in row) + "\r\n")

    def w_pos(self, out, ps):
        import openpyxl
        r = self.rng
        fname = "pos_members.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "会员列表"
        ws.append(["会员信息表（门店：全部）  导出时间：2024-06-30 18:22  操作员：admin"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=9)
        hdr = ["会员卡号", "顾客姓名", "联系方式", "生日", "性别", "办卡门店", "入会时间", "当前积分", "导购"]
        ws.append(hdr)
        n = 0
        seen = {}
        for p in ps:
            t = self.when(dt.date(2016, 1, 1))
            cnt = seen.get(p.pid, 0)
            seen[p.pid] = cnt + 1
            if cnt:
                t = self.when(dt.date(2016, 1, 1), dt.date(2020, 12, 31))  # an old second card
            name, nk = self.name_variant(p, typo=0.04, trad=0.01, pinyin=0.005)
            x = r.random()
            if x < 0.015:
                phone, pk = r.choice(["13800000000", "13888888888", "00000000000"]), "placeholder"
            elif x < 0.03:
                store_phone = {"深圳万象城店": "13923456780", "深圳海岸城店": "13612345098", "广州天河城店": "13501234567"}
                phone, pk = r.choice(list(store_phone.values())), "storephone"
            elif x < 0.08:
                phone, pk = "", "none"
            else:
                phone, pk = self.phone_for(p, t, typo=0.025, family=0.2)
                phone = self.fmt_mobile(phone, [("plain", 93), ("fw", 3), ("space", 2), ("dash", 2)]) if phone else phone
            y = r.random()
            if y < 0.45:
                bd = p.birth  # a real Excel date cell
            elif y < 0.75:
                bd = p.birth.strftime("%m-%d") if r.random() < 0.7 else f"{p.birth.month}月{p.birth.day}日"
            elif y < 0.85:
                bd = f"{p.birth.year}/{p.birth.month}/{p.birth.day}"
            else:
                bd = ""
            g = {"M": "男", "F": "女"}[p.gender] if r.random() < 0.9 else ""
            store = r.choice(STORES.get(p.home["city"], ALL_STORES))
            card = str(r.randint(0, 99999999)).zfill(8) if r.random() < 0.6 else "VIP" + str(r.randint(100000, 999999))
            ws.append([card, self.ws(name), phone, bd, g, store, self.ts(t), r.randint(0, 20000), r.choice(STAFF)])
            n += 1
            c = ws.cell(row=n + 2, column=1)
            c.number_format = "@"
            if isinstance(bd, dt.date):
                ws.cell(row=n + 2, column=4).number_format = "yyyy-mm-dd"
            self.rec(fname, n, p, pk, nk, note="second_card" if cnt else "")
        wb.save(os.path.join(out, fname))

    def w_crm(self, out, ps):
        r = self.rng
        fname = "crm_customers_full.csv"
        hdr = ["客户ID", "客户姓名", "手机", "证件号码", "E-mail", "出生年月日", "省份", "城市", "区县", "联系地址",
               "微信unionid", "会员等级", "营销许可", "创建日期", "最后更新"]
        rows = []
        seen = {}
        for p in ps:
            cnt = seen.get(p.pid, 0)
            seen[p.pid] = cnt + 1
            t = self.when(dt.date(2015, 1, 1), dt.date(2020, 12, 31)) if cnt else self.when(dt.date(2017, 1, 1))
            name, nk = self.name_variant(p, typo=0.02, trad=0.02, pinyin=0.04)
            phone, pk = self.phone_for(p, t, typo=0.015, family=0.05, second=0.03)
            if phone:
                phone = self.fmt_mobile(phone, [("plain", 55), ("+86", 12), ("dash", 10), ("space", 8), ("86", 5), ("+86-", 5), ("fw", 2)])
            idc = ""
            if r.random() < 0.6:
                idc = p.id_card
                if r.random() < 0.01:
                    idc = idc[:6] + idc[8:17]  # 15-digit legacy
                elif idc.endswith("X") and r.random() < 0.4:
                    idc = idc[:-1] + "x"
            em = p.email if (p.email and r.random() < 0.75) else ""
            y = r.random()
            if y < 0.7:
                b = p.birth
                bd = r.choice([b.strftime("%Y-%m-%d"), f"{b.year}/{b.month}/{b.day}", b.strftime("%Y%m%d"), f"{b.year}年{b.month}月{b.day}日"])
            else:
                bd = ""
            h = p.home
            addr = self.address_line(p, r.choice(["street", "full", "full"]))
            union = p.unionid if (p.unionid and r.random() < 0.3) else ""
            rows.append([f"C{r.randint(10 ** 7, 10 ** 8 - 1)}", self.ws(name), phone, idc, em, bd, h["prov"], h["city"],
                         h["dist"], addr, union, r.choice(["普通", "银卡", "金卡", "钻石"]), r.choice(["是", "否", ""]),
                         self.ts(t).strftime("%Y-%m-%d"), self.ts(self.when(t)).strftime("%Y-%m-%d %H:%M:%S")])
            self.rec(fname, len(rows), p, pk, nk, note="migration_dup" if cnt else "")
        with open(os.path.join(out, fname), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(hdr)
            w.writerows(rows)

    def w_tk(self, out, ps):
        r = self.rng
        fname = "kefu_tickets.csv"
        hdr = ["工单编号", "客户称呼", "联系电话", "身份证", "邮箱地址", "问题描述", "来源渠道", "创建时间", "处理状态", "处理人"]
        rows = []
        ISSUES = ["收到的产品有破损，要求换货", "使用后皮肤过敏，要求退款", "会员积分没有到账", "想修改会员手机号",
                  "咨询门店营业时间", "发票一直没收到", "快递三天没更新", "赠品漏发"]
        for p in ps:
            t = self.when(dt.date(2022, 1, 1))
            x = r.random()
            if x < 0.65:
                sal, nk = p.sur + ("先生" if p.gender == "M" else "女士"), "salutation"
            elif x < 0.88:
                sal, nk = self.name_variant(p, typo=0.03)
            elif x < 0.95:
                sal, nk = p.wx_nick, "nickname"
            else:
                sal, nk = "", "none"
            y = r.random()
            if y < 0.68:
                phone, pk = self.phone_for(p, t, typo=0.02, family=0.1, second=0.05)
                phone = self.fmt_mobile(phone, [("plain", 85), ("dash", 5), ("space", 5), ("fw", 5)]) if phone else phone
            elif y < 0.88 and p.landline:
                a, nnum = p.landline
                phone = r.choice([f"{a}-{nnum}", f"{a} {nnum}", f"({a}){nnum}", f"{a}{nnum}"])
                pk = "landline"
            else:
                phone, pk = "", "none"
            idc = ""
            if r.random() < 0.15:
                idc = p.id_card
                if r.random() < 0.05:
                    d = list(idc)
                    i = r.randint(6, 16)
                    d[i] = r.choice([c for c in string.digits if c != d[i]])
                    idc = "".join(d)
            em = p.email if (p.email and r.random() < 0.35) else ""
            desc = r.choice(ISSUES)
            if r.random() < 0.2:
                desc += "\n客户要求回电，" + r.choice(["下午方便", "请尽快处理", "已多次来电"])
            if r.random() < 0.08 and p.mobile:
                desc += f"，备用联系电话{p.second_mobile or p.mobile}"
            rows.append([f"GD{t.strftime('%Y%m%d')}{r.randint(0, 999999):06d}", self.ws(sal), phone, idc, em, desc,
                         r.choice(["400热线", "在线客服", "邮件", "天猫旺旺", "小程序"]), self.ts(t).strftime("%Y-%m-%d %H:%M"),
                         r.choice(["已解决", "处理中", "已关闭"]), r.choice(STAFF)])
            self.rec(fname, len(rows), p, pk, nk)
        with open(os.path.join(out, fname), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(hdr)
            w.writerows(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--people", type=int, default=12000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    g = Gen(a.seed, a.people)
    g.build_population()
    g.write_all(a.out)
    # summary
    from collections import Counter
    per = Counter(f for f, _, _ in g.truth)
    persons = Counter(pid for _, _, pid in g.truth)
    R, U = len(g.truth), len(persons)
    names = Counter(p.name for p in g.people)
    print("records", R, "persons", U, "dup share %.3f" % (1 - U / R))
    print("per file", dict(per))
    print("people with a namesake %.3f" % (sum(1 for p in g.people if names[p.name] > 1) / len(g.people)),
          "top names", names.most_common(5))


if __name__ == "__main__":
    main()
