#!/usr/bin/env python3
"""Independent synthetic generator of Chinese multi-channel customer exports with ground truth.

Usage: python gen.py --seed 11 --out /tmp/indep4/data/s11 [--people 15000]

Writes seven channel exports plus
  truth.csv       file,row_number,person_id      (row_number = 1-based data row after the header)
  truth_meta.csv  file,row_number,person_id,flags (generator knowledge, for diagnosis only)
  persons.csv     the people (for debugging)

Truth conventions (documented):
  * A JD gift order (receiver != buyer) belongs to the BUYER (the 下单账号 owner), although its
    客户姓名/联系电话/客户地址 are the receiver's.
  * A record that uses a household phone belongs to the person it describes (the name on it).
  * The trailing "合计" row of the POS export is junk: its own singleton person (JUNK-...).
"""
import argparse
import csv
import datetime as dt
import os
import random
import string

from pypinyin import lazy_pinyin

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
            "邵万钱严覃武戴莫孔向汤")
# heavier weight on the big surnames
SURNAME_W = [30, 29, 28, 22, 19, 15, 10, 9, 9, 8, 8, 7, 6, 6, 6, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3,
             3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
SURNAME_W += [1] * (len(SURNAMES) - len(SURNAME_W))
SURNAME_PY = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha",
              "盖": "ge", "乐": "yue", "覃": "qin", "万": "wan", "沈": "shen", "石": "shi", "贾": "jia",
              "长": "chang", "重": "chong", "尉": "yu", "缪": "miao", "翟": "zhai", "柏": "bai"}
MALE_CH = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣阳建国志文博成康亮晨晓东海峰斌彬毅翔"
FEMALE_CH = "芳娜敏静丽艳娟霞秀玲桂英燕萍红琳婷雪慧莉梅倩颖洁佳琴云莹晶丹蓉露瑶怡欣悦璐婧菲薇月晓小雅"
COMMON_NAMES = ["王伟", "张伟", "王芳", "李伟", "李娜", "张敏", "李静", "王静", "刘伟", "王秀英", "张丽", "李秀英",
                "王丽", "张静", "张秀英", "李强", "王敏", "李敏", "王磊", "刘洋", "王艳", "王勇", "李军", "张勇",
                "李杰", "张杰", "王军", "张磊", "王强", "李娟"]
COMMON_GENDER = {n: ("F" if n[-1] in "芳娜敏静丽英艳娟" else "M") for n in COMMON_NAMES}
HOMOPHONE = {"伟": "玮炜苇", "娜": "纳", "静": "婧靖", "敏": "旻民", "丽": "莉俐", "芳": "方", "军": "君钧",
             "杰": "洁捷", "涛": "韬", "明": "铭鸣", "华": "桦骅", "玲": "琳苓", "红": "宏虹", "霞": "侠",
             "平": "萍苹", "刚": "钢", "辉": "晖徽", "鹏": "朋", "斌": "彬", "磊": "垒", "洋": "阳扬", "勇": "永涌",
             "艳": "燕彦", "婷": "亭", "雪": "薛", "慧": "惠蕙", "莉": "丽", "梅": "玫媚", "倩": "茜", "颖": "莹",
             "洁": "杰", "琴": "芹", "云": "芸耘", "晶": "菁", "丹": "单", "蓉": "容荣", "瑶": "遥", "怡": "仪宜",
             "欣": "新馨", "悦": "月越", "菲": "非霏", "薇": "微", "晓": "小筱", "雅": "亚", "强": "蔷", "超": "潮",
             "飞": "菲", "鑫": "欣", "波": "博", "宇": "雨羽", "浩": "昊皓", "凯": "恺", "健": "建", "俊": "骏",
             "帆": "凡", "旭": "绪", "宁": "凝", "龙": "隆", "阳": "洋", "国": "果", "志": "智",
             "文": "雯", "博": "波", "成": "诚", "康": "慷", "亮": "靓", "晨": "辰", "东": "冬", "海": "凯",
             "峰": "锋", "毅": "艺", "翔": "祥", "秀": "绣", "英": "瑛", "桂": "贵", "燕": "艳", "萍": "平",
             "娟": "鹃", "琳": "林", "露": "璐", "璐": "露", "婧": "静", "月": "悦", "小": "晓", "彬": "斌",
             "张": "章", "王": "汪", "刘": "柳", "徐": "许", "许": "徐", "杨": "阳", "陈": "程", "黄": "王",
             "林": "琳", "吴": "伍", "周": "邹", "李": "黎"}
TRAD = {"张": "張", "陈": "陳", "刘": "劉", "黄": "黃", "赵": "趙", "吴": "吳", "杨": "楊", "郑": "鄭",
        "谢": "謝", "罗": "羅", "冯": "馮", "邓": "鄧", "许": "許", "韩": "韓", "伟": "偉", "丽": "麗",
        "华": "華", "军": "軍", "红": "紅", "东": "東", "国": "國", "龙": "龍", "杰": "傑", "鹏": "鵬",
        "辉": "輝", "涛": "濤", "强": "強", "静": "靜", "云": "雲", "晓": "曉", "飞": "飛", "颖": "穎",
        "凤": "鳳", "兰": "蘭", "叶": "葉", "苏": "蘇", "刚": "剛", "宁": "寧", "玲": "玲", "洁": "潔"}
# province, city, city_en, id-code prefix (4 digits), landline area code, districts
REGIONS = [
    ("浙江省", "杭州市", "Hangzhou", "3301", "0571", ["西湖区", "上城区", "拱墅区", "滨江区", "余杭区", "萧山区"]),
    ("浙江省", "宁波市", "Ningbo", "3302", "0574", ["海曙区", "江北区", "鄞州区", "北仑区"]),
    ("浙江省", "温州市", "Wenzhou", "3303", "0577", ["鹿城区", "龙湾区", "瓯海区"]),
    ("上海市", "上海市", "Shanghai", "3101", "021", ["静安区", "徐汇区", "浦东新区", "黄浦区", "长宁区", "闵行区", "杨浦区"]),
    ("北京市", "北京市", "Beijing", "1101", "010", ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区"]),
    ("广东省", "广州市", "Guangzhou", "4401", "020", ["天河区", "越秀区", "海珠区", "番禺区", "白云区"]),
    ("广东省", "深圳市", "Shenzhen", "4403", "0755", ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区"]),
    ("广东省", "东莞市", "Dongguan", "4419", "0769", ["南城街道", "东城街道", "长安镇"]),
    ("江苏省", "南京市", "Nanjing", "3201", "025", ["玄武区", "鼓楼区", "建邺区", "江宁区"]),
    ("江苏省", "苏州市", "Suzhou", "3205", "0512", ["姑苏区", "吴中区", "工业园区", "昆山市"]),
    ("江苏省", "无锡市", "Wuxi", "3202", "0510", ["梁溪区", "滨湖区", "新吴区"]),
    ("四川省", "成都市", "Chengdu", "5101", "028", ["锦江区", "武侯区", "青羊区", "高新区", "成华区"]),
    ("湖北省", "武汉市", "Wuhan", "4201", "027", ["江汉区", "武昌区", "洪山区", "江岸区"]),
    ("湖南省", "长沙市", "Changsha", "4301", "0731", ["岳麓区", "芙蓉区", "天心区", "雨花区"]),
    ("重庆市", "重庆市", "Chongqing", "5001", "023", ["渝中区", "江北区", "南岸区", "渝北区"]),
    ("陕西省", "西安市", "Xi'an", "6101", "029", ["雁塔区", "碑林区", "未央区", "长安区"]),
    ("山东省", "济南市", "Jinan", "3701", "0531", ["历下区", "市中区", "槐荫区"]),
    ("山东省", "青岛市", "Qingdao", "3702", "0532", ["市南区", "市北区", "崂山区", "黄岛区"]),
    ("福建省", "厦门市", "Xiamen", "3502", "0592", ["思明区", "湖里区", "集美区"]),
    ("福建省", "福州市", "Fuzhou", "3501", "0591", ["鼓楼区", "台江区", "仓山区"]),
    ("天津市", "天津市", "Tianjin", "1201", "022", ["和平区", "南开区", "河西区"]),
    ("河南省", "郑州市", "Zhengzhou", "4101", "0371", ["金水区", "二七区", "中原区"]),
    ("安徽省", "合肥市", "Hefei", "3401", "0551", ["蜀山区", "包河区", "庐阳区"]),
    ("辽宁省", "沈阳市", "Shenyang", "2101", "024", ["和平区", "沈河区", "皇姑区"]),
    ("辽宁省", "大连市", "Dalian", "2102", "0411", ["中山区", "沙河口区", "甘井子区"]),
    ("云南省", "昆明市", "Kunming", "5301", "0871", ["五华区", "盘龙区", "官渡区"]),
    ("广西壮族自治区", "南宁市", "Nanning", "4501", "0771", ["青秀区", "兴宁区", "西乡塘区"]),
    ("黑龙江省", "哈尔滨市", "Harbin", "2301", "0451", ["南岗区", "道里区", "香坊区"]),
]
REGION_W = [8, 4, 3, 10, 9, 6, 7, 2, 4, 4, 2, 5, 4, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1]
STREETS = ["文三路", "中山路", "人民路", "解放路", "建设路", "南京西路", "淮海中路", "长安街", "天府大道", "滨江大道",
           "学院路", "科技园路", "新华路", "和平路", "光明路", "幸福路", "青年路", "东风路", "延安路", "环城北路",
           "江南大道", "金融街", "世纪大道", "花园路", "朝阳路"]
COMMUNITIES = ["阳光花园", "翠苑小区", "万科城", "绿城桂花园", "碧桂园", "金地格林", "保利花园", "华润城", "龙湖天街",
               "融创壹号院", "中海国际", "世纪新城", "锦绣江南", "东方名苑", "紫金苑"]
MALLS = ["银泰", "万象城", "大悦城", "太古里", "来福士", "万达", "印象城", "龙湖天街", "恒隆", "嘉里中心", "IFS", "K11"]
GENERIC_NICKS = ["微信用户", "微信用户", "微信用户", "小明", "小丽", "A.小丽", "开心", "快乐每一天", "🌸", "平安是福",
                 "静待花开", "阳光", "Lucky", "Amy", "向日葵", "知足常乐", "A 莉莉", "晴天", "简单", "小太阳",
                 "Grace", "Coco", "岁月静好", "花开富贵", "淡定", "👑", "Anna", "风景", "微笑", "小猪佩奇"]
NICK_ADJ = ["快乐的", "安静的", "爱笑的", "追风的", "温柔的", "勇敢的", "迷路的", "会飞的", "慢半拍的", "爱吃鱼的"]
NICK_NOUN = ["小猫", "兔子", "土豆", "橙子", "鲸鱼", "少年", "月亮", "星星", "蘑菇", "汤圆", "柠檬", "咸鱼"]
EN_NICK = ["Lily", "Kevin", "Tony", "Jessica", "Vivian", "Cherry", "Eric", "Jason", "Helen", "Sunny", "Ivy", "Leo",
           "Cindy", "Jack", "Mia", "Ella", "Alex", "Nina", "Sam", "Rita"]
EMOJI = ["🌸", "🍀", "🌙", "☀️", "🐱", "🍓", "💫", "🌈", "🦋", "🍑"]
PRODUCTS = ["玻尿酸精华液30ml", "氨基酸洁面乳", "防晒霜SPF50", "面膜礼盒10片装", "男士控油套装", "口红礼盒", "身体乳400ml",
            "眼霜15g", "护手霜三支装", "香水50ml", "水乳套装", "洗发水750ml"]
FAMILY_GIFT_NOTES = ["给爸爸买的", "送妈妈", "给老婆的", "给老公买的", "给我妈买的，收货人写她", "送爸妈", "家里人用"]
FRIEND_GIFT_NOTES = ["送朋友", "生日礼物 请勿放发票", "送闺蜜，别放价格单", "帮同事买的", "礼物 包装好一点", "代朋友下单"]
NORMAL_NOTES = ["", "", "", "", "", "请尽快发货", "周末送", "放快递柜", "不要打电话", "发票抬头个人"]
PLACEHOLDER_PHONES = ["13800000000", "13800138000", "18888888888", "00000000000", "11111111111", "无", "未填写"]
PLACEHOLDER_NAMES = ["test", "测试", "无", "未填写", "客户", "顾客", "123"]
STAFF_N = 40
TICKET_TYPES = ["产品咨询", "物流查询", "退换货", "投诉", "会员积分", "过敏反馈", "发票问题"]
AD_PLANS = ["618美妆投放", "春季新品", "直播间留资", "达人种草", "品牌专区", "私信咨询"]
INTENT = ["想了解价格", "敏感肌适用吗", "求试用装", "门店地址", "", "", "有优惠吗"]
LEVELS = ["普通会员", "普通会员", "银卡会员", "金卡会员", "钻石会员"]

MOBILE_PREFIX = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                 "155", "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182", "183",
                 "185", "186", "187", "188", "189", "191", "198", "199"]
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHK = "10X98765432"


def id_check(body17):
    return CHK[sum(int(c) * w for c, w in zip(body17, W)) % 11]


class Gen:
    def __init__(self, seed, n_people):
        self.r = random.Random(seed)
        self.seed = seed
        self.n = n_people
        self.used_mobiles = set()
        self.used_ids = set()
        self.people = []
        self.records = {k: [] for k in CHANNELS}

    # ---------------- primitives ----------------
    def mobile(self):
        while True:
            m = self.r.choice(MOBILE_PREFIX) + "".join(self.r.choice(string.digits) for _ in range(8))
            if m not in self.used_mobiles and len(set(m[3:])) > 2:
                self.used_mobiles.add(m)
                return m

    def landline(self, reg):
        code = reg[4]
        n = 8 if len(code) == 3 else self.r.choice([7, 8])
        return code, str(self.r.randint(2, 8)) + "".join(self.r.choice(string.digits) for _ in range(n - 1))

    def rid(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def given(self, g):
        pool = MALE_CH if g == "M" else FEMALE_CH
        if self.r.random() < 0.3:
            return self.r.choice(pool)
        return self.r.choice(pool) + self.r.choice(pool)

    def pinyin(self, name):
        sur = SURNAME_PY.get(name[0]) or lazy_pinyin(name[0])[0]
        return sur, lazy_pinyin(name[1:])

    # ---------------- people ----------------
    def make_person(self, idx, surname=None, gender=None, region=None, address=None, age_range=None):
        r = self.r
        g = gender or r.choice("MF")
        if surname is None and r.random() < 0.05:
            name = r.choice(COMMON_NAMES)
            g = COMMON_GENDER[name]
        else:
            s = surname or r.choices(SURNAMES, weights=SURNAME_W)[0]
            name = s + self.given(g)
        lo, hi = age_range or (18, 66)
        age = r.randint(lo, hi) if age_range else int(min(max(r.gauss(36, 11), 18), 70))
        year = 2024 - age
        birth = dt.date(year, 1, 1) + dt.timedelta(days=r.randint(0, 364))
        reg = region or r.choices(REGIONS, weights=REGION_W)[0]
        district = r.choice(reg[5])
        addr = address or f"{r.choice(STREETS)}{r.randint(1, 999)}号{r.choice(COMMUNITIES)}{r.randint(1, 30)}幢{r.randint(1, 4)}单元{r.randint(1, 28)}{r.randint(1, 4):02d}室"
        p = dict(pid=f"P{idx:06d}", name=name, gender=g, birth=birth, region=reg, district=district, addr=addr)
        p["mobile"] = self.mobile()
        p["old_mobile"] = self.mobile() if r.random() < 0.10 else None
        p["hk_mobile"] = ("+852 " + str(r.choice([5, 6, 9])) + self.rid(string.digits, 3) + " " + self.rid(string.digits, 4)) if r.random() < 0.01 else None
        u = r.random()
        if u < 0.20:
            p["nick"] = r.choice(GENERIC_NICKS)
        elif u < 0.45:
            p["nick"] = r.choice(NICK_ADJ) + r.choice(NICK_NOUN)
        elif u < 0.60:
            p["nick"] = r.choice(EN_NICK) + (r.choice(["", "_" + str(r.randint(1, 99)), str(birth.year % 100)]))
        elif u < 0.75:
            p["nick"] = ("阿" + name[-1]) if r.random() < 0.5 else name[-1] * 2
        elif u < 0.85:
            p["nick"] = r.choice(EMOJI) + name[-1] + r.choice(["", "酱", "宝", "儿"])
        else:
            p["nick"] = r.choice(NICK_NOUN) + r.choice(["", "呀", "🍭", str(r.randint(1, 9))])
        sur, giv = self.pinyin(name)
        p["py"] = (sur, giv)
        if r.random() < 0.32:
            k = r.random()
            if k < 0.35:
                p["email"] = f"{r.randint(10000000, 3999999999)}@qq.com"
            elif k < 0.75:
                p["email"] = f"{sur}{''.join(giv)}{r.choice(['', str(birth.year), str(r.randint(1, 999))])}@{r.choice(['163.com', '126.com', 'sina.com', 'foxmail.com'])}"
            else:
                p["email"] = f"{''.join(giv)}.{sur}@{r.choice(['gmail.com', 'outlook.com', 'hotmail.com'])}"
        else:
            p["email"] = None
        if r.random() < 0.30:
            area = reg[3] + f"{r.randint(1, 12):02d}"
            seq = f"{r.randint(0, 99):02d}" + str(r.choice([1, 3, 5, 7, 9] if g == "M" else [0, 2, 4, 6, 8]))
            body = area + birth.strftime("%Y%m%d") + seq
            p["idcard"] = body + id_check(body)
        else:
            p["idcard"] = None
        p["unionid"] = ("o" + self.rid(string.ascii_letters + string.digits + "_-", 27)) if r.random() < 0.7 else None
        p["household"] = None
        p["has_own_mobile"] = True
        return p

    def build_people(self):
        r = self.r
        idx = 1
        n_house = int(self.n * 0.045)
        for h in range(n_house):
            head = self.make_person(idx); idx += 1
            hh = dict(hid=f"H{h:05d}", phone=head["mobile"], landline=self.landline(head["region"]) if r.random() < 0.35 else None,
                      members=[head])
            head["household"] = hh
            head["role"] = "head"
            kinds = ["spouse"] + (["child"] if r.random() < 0.5 else []) + (["parent"] if r.random() < 0.35 else [])
            for k in kinds:
                if k == "spouse":
                    m = self.make_person(idx, gender="F" if head["gender"] == "M" else "M", region=head["region"],
                                         address=head["addr"], age_range=(max(18, 2024 - head["birth"].year - 6), 2024 - head["birth"].year + 6))
                elif k == "child":
                    m = self.make_person(idx, surname=head["name"][0], region=head["region"], address=head["addr"],
                                         age_range=(18, max(19, 2024 - head["birth"].year - 20)))
                else:
                    m = self.make_person(idx, surname=head["name"][0], region=head["region"], address=head["addr"],
                                         age_range=(min(80, 2024 - head["birth"].year + 22), min(85, 2024 - head["birth"].year + 32)))
                    if r.random() < 0.5:
                        m["has_own_mobile"] = False
                idx += 1
                m["household"] = hh
                m["role"] = k
                m["district"] = head["district"]
                hh["members"].append(m)
            self.people.extend(hh["members"])
        while len(self.people) < self.n:
            self.people.append(self.make_person(idx)); idx += 1
        self.staff = []
        for i in range(STAFF_N):
            s = self.make_person(900000 + i)
            self.staff.append(s["name"])
        # staff names sometimes equal to common customer names (realistic collision)
        self.staff[0] = "王伟"; self.staff[1] = "李娜"

    # ---------------- shared noise ----------------
    def pick_phone(self, p, flags, allow_landline=False):
        r = self.r
        hh = p["household"]
        if hh is not None and p["role"] != "head" and (not p["has_own_mobile"] or r.random() < 0.4):
            if allow_landline and hh["landline"] and r.random() < 0.5:
                flags.add("household_landline")
                return ("landline", hh["landline"])
            flags.add("household_phone")
            return ("mobile", hh["phone"])
        if hh is not None and allow_landline and hh["landline"] and r.random() < 0.1:
            flags.add("household_landline")
            return ("landline", hh["landline"])
        if p["old_mobile"] and r.random() < 0.4:
            flags.add("old_phone")
            m = p["old_mobile"]
        else:
            m = p["mobile"]
        u = r.random()
        if u < 0.025:
            flags.add("phone_typo")
            pos = r.randint(3, 10)
            m = m[:pos] + r.choice([d for d in string.digits if d != m[pos]]) + m[pos + 1:]
        elif u < 0.035:
            flags.add("phone_transposed")
            pos = r.randint(3, 9)
            if m[pos] != m[pos + 1]:
                m = m[:pos] + m[pos + 1] + m[pos] + m[pos + 2:]
        return ("mobile", m)

    def fmt_mobile(self, m, style):
        if style == "plain":
            return m
        if style == "space":
            return f"{m[:3]} {m[3:7]} {m[7:]}"
        if style == "dash":
            return f"{m[:3]}-{m[3:7]}-{m[7:]}"
        if style == "plus86":
            return "+86 " + m
        if style == "plus86nospace":
            return "+86" + m
        if style == "86dash":
            return "86-" + m
        if style == "fullwidth":
            return m.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        if style == "lead0":
            return "0" + m
        if style == "paren":
            return "(+86)" + m
        if style == "mask":
            return m[:3] + "****" + m[7:]
        raise ValueError(style)

    def fmt_landline(self, ll, style=None):
        code, num = ll
        style = style or self.r.choice(["dash", "paren", "plain"])
        return {"dash": f"{code}-{num}", "paren": f"({code}){num}", "plain": code + num}[style]

    def noisy_name(self, p, flags, p_typo=0.06):
        name = p["name"]
        if self.r.random() < p_typo:
            cands = [i for i, c in enumerate(name) if c in HOMOPHONE]
            if cands:
                i = self.r.choice(cands)
                name = name[:i] + self.r.choice(HOMOPHONE[name[i]]) + name[i + 1:]
                flags.add("name_typo")
        return name

    def salutation(self, p):
        s = p["name"][0]
        return s + ("先生" if p["gender"] == "M" else self.r.choice(["女士", "女士", "小姐"]))

    def pinyin_name(self, p):
        sur, giv = p["py"]
        r = self.r
        g = "".join(giv)
        styles = [f"{sur.title()} {g.title()}", f"{sur.upper()} {g.upper()}", f"{g.title()} {sur.title()}",
                  f"{g.upper()} {sur.upper()}", f"{sur.title()}, {g.title()}", f"{sur}{g}"]
        if len(giv) == 2:
            styles += [f"{sur.title()} {giv[0].title()} {giv[1].title()}", f"{giv[0].title()}-{giv[1]} {sur.title()}"]
        return r.choice(styles)

    def trad(self, name):
        return "".join(TRAD.get(c, c) for c in name)

    def ts(self, start=2021, end=2024):
        d0 = dt.datetime(start, 1, 1)
        d1 = dt.datetime(end, 6, 1)
        return d0 + dt.timedelta(seconds=self.r.randint(0, int((d1 - d0).total_seconds())))

    # ---------------- record allocation ----------------
    def allocate(self):
        r = self.r
        ch_names = list(CHANNELS)
        ch_w = [CH_WEIGHT[c] for c in ch_names]
        for p in self.people:
            u = r.random()
            n = 1 if u < 0.775 else 2 if u < 0.915 else 3 if u < 0.975 else r.choice([4, 5])
            chans = []
            for _ in range(n):
                if chans and r.random() < 0.3:
                    c = r.choice(chans)
                else:
                    c = r.choices(ch_names, weights=ch_w)[0]
                # channels where a second row for the same person is unusual
                if c in chans and c in ("youzan", "overseas") and not p["old_mobile"]:
                    c = r.choices(ch_names, weights=ch_w)[0]
                chans.append(c)
            p["chans"] = chans

    # ---------------- channel writers ----------------
    def rec(self, ch, p, row, flags):
        row["__pid"] = p["pid"] if p else "JUNK"
        row["__flags"] = "|".join(sorted(flags))
        self.records[ch].append(row)

    def gen_wecom(self, p):
        r = self.r
        flags = set()
        if "extuid" not in p:
            p["extuid"] = "wm" + self.rid(string.ascii_letters + string.digits + "_-", 30)
        store = r.choice(MALLS)
        nm = self.noisy_name(p, flags)
        u = r.random()
        kind, ph = self.pick_phone(p, flags)
        if kind == "landline":
            ph = None
        if u < 0.30:
            remark = nm
        elif u < 0.45:
            remark = f"{nm}-{p['region'][1][:-1]}{store}店"
        elif u < 0.55:
            remark = p["name"][0] + ("哥" if p["gender"] == "M" else "姐"); flags.add("remark_partial")
        elif u < 0.65:
            remark = self.salutation(p); flags.add("remark_partial")
        elif u < 0.73 and ph:
            remark = nm + ph; flags.add("remark_with_phone")
        elif u < 0.80:
            remark = p["nick"]; flags.add("remark_nick")
        elif u < 0.85:
            remark = f"{nm}（{p['region'][1][:-1]}）"
        else:
            remark = ""; flags.add("remark_empty")
        phones = []
        v = r.random()
        if ph and v < 0.55:
            phones.append(ph)
            if p["old_mobile"] and r.random() < 0.5:
                other = p["old_mobile"] if ph != p["old_mobile"] else p["mobile"]
                phones.append(other); flags.add("two_phones")
        desc = ""
        w = r.random()
        if ph and not phones and w < 0.35:
            desc = r.choice([f"手机：{ph}", f"{ph} 老客户", f"电话{self.fmt_mobile(ph, 'space')}，{store}店扫码", f"tel {ph}"])
            flags.add("phone_in_desc")
        elif w < 0.5:
            desc = r.choice([f"生日{p['birth'].month}月{p['birth'].day}日 喜欢护肤", "敏感肌，推荐修护系列", f"{store}店导购添加",
                             "VIP客户", "双十一活动加的", "对价格敏感"])
        elif w < 0.58 and p["email"]:
            desc = f"邮箱 {p['email']}"; flags.add("email_in_desc")
        if not ph or (not phones and not desc.startswith(("手机", "电话", "tel")) and ph not in remark):
            flags.add("no_phone")
        unionid = p["unionid"] if (p["unionid"] and r.random() < 0.6) else ""
        added = self.ts()
        row = {
            "客户名称": p["nick"],
            "备注名": remark,
            "外部联系人ID": p["extuid"],
            "unionid": unionid,
            "性别": {"M": "男", "F": "女"}[p["gender"]] if r.random() < 0.8 else "未知",
            "添加人": r.choice(self.staff),
            "添加人账号": "staff" + str(r.randint(100, 140)),
            "添加时间": added.strftime("%Y-%m-%d %H:%M:%S"),
            "添加渠道": r.choice(["扫描二维码", "搜索手机号", "名片分享", "群聊", "扫描二维码"]),
            "备注手机": ",".join(phones),
            "描述": desc,
            "标签": r.choice(["", "高意向", "已购", "新客,敏感肌", "老客户", "直播间"]),
            "企业名称": r.choice(["", "", "", "", f"{p['region'][1][:-1]}{r.choice(['华盛', '鼎新', '恒远'])}贸易有限公司"]),
        }
        self.rec("wecom", p, row, flags)

    def fmt_bday_youzan(self, b):
        u = self.r.random()
        if u < 0.35:
            return b.strftime("%Y-%m-%d")
        if u < 0.50:
            return b.strftime("%m-%d")
        if u < 0.62:
            return f"{b.year}年{b.month}月{b.day}日"
        if u < 0.72:
            return b.strftime("%Y%m%d")
        if u < 0.80:
            return f"{b.year}/{b.month}/{b.day}"
        return ""

    def gen_youzan(self, p, nth):
        r = self.r
        flags = set()
        if "youzan_id" not in p or nth > 0:
            p["youzan_id"] = str(r.randint(100000000, 999999999))
        kind, ph = ("mobile", p["old_mobile"]) if (nth > 0 and p["old_mobile"]) else self.pick_phone(p, flags)
        if nth > 0 and p["old_mobile"]:
            flags.add("old_phone")
        if kind == "landline":
            kind, ph = "mobile", p["household"]["phone"]; flags.add("household_phone")
        u = r.random()
        if u < 0.01:
            mob = r.choice(PLACEHOLDER_PHONES[:5]); flags.add("placeholder_phone")
        elif u < 0.04:
            mob = self.fmt_mobile(ph, "86dash")
        else:
            mob = ph
        reg = p["region"]
        v = r.random()
        loc = f"{reg[0]} {reg[1]} {p['district']}" if v < 0.55 else f"{reg[0][:-1] if reg[0].endswith('省') else reg[0]} {reg[1][:-1]}" if v < 0.75 else ""
        real = self.noisy_name(p, flags) if r.random() < 0.4 else ""
        if not real:
            flags.add("no_name")
        sex = {"M": "男", "F": "女"}[p["gender"]] if r.random() < 0.75 else "未知"
        row = {
            "客户编号": p["youzan_id"],
            "会员昵称": p["nick"],
            "真实姓名": real,
            "手机号": mob,
            "会员等级": r.choice(LEVELS),
            "生日": self.fmt_bday_youzan(p["birth"]),
            "性别": sex,
            "所在地": loc,
            "积分": r.randint(0, 20000),
            "成为会员时间": self.ts().strftime("%Y-%m-%d %H:%M"),
        }
        self.rec("youzan", p, row, flags)

    def gen_jd(self, p):
        r = self.r
        flags = set()
        if "jdpin" not in p:
            u = r.random()
            sur, giv = p["py"]
            if u < 0.5:
                p["jdpin"] = "jd_" + self.rid("0123456789abcdef", 12)
            elif u < 0.8:
                p["jdpin"] = f"{sur}{''.join(giv)}{r.choice(['', '_', '88', str(p['birth'].year)])}{r.randint(0, 999)}"
            else:
                p["jdpin"] = p["mobile"][:3] + "****" + p["mobile"][7:] + "_" + self.rid("0123456789", 3)
        target = p
        gift = r.random() < 0.12
        if gift:
            flags.add("gift")
            hh = p["household"]
            if hh and len(hh["members"]) > 1 and r.random() < 0.6:
                target = r.choice([m for m in hh["members"] if m is not p]); flags.add("gift_to_existing")
            elif r.random() < 0.3:
                target = r.choice(self.people); flags.add("gift_to_existing")
                if target is p:
                    target = self.make_person(0)
            else:
                target = self.make_person(0); flags.add("gift_to_stranger")
        tflags = set()
        kind, ph = self.pick_phone(target, tflags)
        if target is p:
            flags |= tflags
        if kind == "landline":
            kind, ph = "mobile", target["mobile"]
        u = r.random()
        if u < 0.45:
            tel = self.fmt_mobile(ph, "mask"); flags.add("masked_phone")
        elif u < 0.47:
            tel = r.choice(PLACEHOLDER_PHONES[:4]); flags.add("placeholder_phone")
        else:
            tel = ph
        v = r.random()
        if v < 0.72:
            nm = self.noisy_name(target, flags if target is p else set())
        elif v < 0.87:
            nm = self.salutation(target); flags.add("name_salutation")
        elif v < 0.92:
            nm = self.pinyin_name(target); flags.add("pinyin")
        elif v < 0.96:
            nm = target["nick"]; flags.add("name_nick")
        else:
            nm = r.choice(PLACEHOLDER_NAMES); flags.add("placeholder_name")
        reg = target["region"]
        addr = f"{reg[0] if reg[0] != reg[1] else ''}{reg[1]}{target['district']}{target['addr']}"
        if r.random() < 0.15:
            addr = f"{reg[0]} {reg[1]} {target['district']} {target['addr']}"
        t = self.ts(2022)
        row = {
            "订单号": str(r.randint(200000000000, 299999999999)),
            "下单账号": p["jdpin"],
            "客户姓名": nm,
            "联系电话": tel,
            "客户地址": addr,
            "商品名称": r.choice(PRODUCTS),
            "订单金额": f"{r.randint(39, 1299)}.{r.choice(['00', '90', '50'])}",
            "下单时间": (t - dt.timedelta(minutes=r.randint(1, 30))).strftime("%Y-%m-%d %H:%M:%S"),
            "付款时间": t.strftime("%Y-%m-%d %H:%M:%S"),
            "订单状态": r.choice(["已完成", "已完成", "已完成", "等待收货", "已取消"]),
            "订单备注": (r.choice(FAMILY_GIFT_NOTES) if "gift_to_existing" in flags and p["household"] and target in p["household"]["members"]
                         else r.choice(FRIEND_GIFT_NOTES)) if gift else r.choice(NORMAL_NOTES),
        }
        self.rec("jd", p, row, flags)

    def gen_leads(self, p):
        r = self.r
        flags = set()
        plat = r.choice(["快手", "小红书"])
        key = "ks_uid" if plat == "快手" else "xhs_uid"
        if key not in p or r.random() < 0.15:
            p[key] = str(r.randint(1000000000, 3999999999)) if plat == "快手" else self.rid("0123456789abcdef", 24)
        u = r.random()
        if u < 0.55:
            nm = self.noisy_name(p, flags)
        elif u < 0.70:
            nm = p["nick"] if r.random() < 0.6 else (r.choice(EMOJI) + p["nick"]); flags.add("name_nick")
        elif u < 0.83:
            nm = self.salutation(p); flags.add("name_salutation")
        elif u < 0.86:
            nm = self.pinyin_name(p); flags.add("pinyin")
        elif u < 0.90:
            nm = r.choice(PLACEHOLDER_NAMES); flags.add("placeholder_name")
        else:
            nm = ""; flags.add("no_name")
        kind, ph = self.pick_phone(p, flags)
        if kind == "landline":
            ph = p["household"]["phone"]
        v = r.random()
        if v < 0.05:
            tel = ""; flags.add("no_phone")
        elif v < 0.07:
            tel = r.choice(PLACEHOLDER_PHONES); flags.add("placeholder_phone")
        elif v < 0.08:
            i = r.randint(3, 10); tel = ph[:i] + ph[i + 1:]; flags.add("phone_short")
        else:
            tel = self.fmt_mobile(ph, r.choice(["plain", "plain", "plain", "space", "dash"]))
        reg = p["region"]
        city = r.choice([reg[1], reg[1][:-1], (reg[0][:2] + reg[1][:-1]) if reg[0] != reg[1] else reg[1][:-1]])
        age = 2024 - p["birth"].year
        w = r.random()
        if w < 0.35:
            agev = str(age)
        elif w < 0.55:
            agev = f"{age}岁"
        elif w < 0.8:
            lo = (age // 5) * 5
            agev = f"{lo}-{lo + 5}岁"
        else:
            agev = ""
        row = {
            "线索ID": "L" + self.ts(2023).strftime("%Y%m%d") + self.rid(string.digits, 6),
            "来源平台": plat,
            "用户ID": p[key],
            "昵称": p["nick"],
            "姓名": nm,
            "电话": tel,
            "城市": city,
            "年龄": agev,
            "意向": r.choice(INTENT),
            "广告计划": r.choice(AD_PLANS),
            "留资时间": self.ts(2023).strftime("%Y/%m/%d %H:%M"),
        }
        self.rec("leads", p, row, flags)

    def gen_pos(self, p):
        r = self.r
        flags = set()
        card = "8800" + self.rid(string.digits, 8)
        kind, ph = self.pick_phone(p, flags, allow_landline=True)
        u = r.random()
        if kind == "landline":
            tel = self.fmt_landline(ph)
        elif u < 0.02:
            tel = r.choice(PLACEHOLDER_PHONES); flags.add("placeholder_phone")
        else:
            st = r.choices(["plain", "space", "dash", "plus86", "plus86nospace", "fullwidth", "paren"],
                           weights=[60, 8, 7, 8, 5, 6, 3])[0]
            tel = self.fmt_mobile(ph, st)
            if st == "fullwidth":
                flags.add("fullwidth")
        b = p["birth"]
        v = r.random()
        bday = b.strftime("%m-%d") if v < 0.55 else f"{b.month}月{b.day}日" if v < 0.65 else b.strftime("%Y-%m-%d") if v < 0.88 else ""
        idv = ""
        if p["idcard"] and r.random() < 0.3:
            idv = self.fmt_id(p, flags)
        reg = p["region"]
        nm = self.noisy_name(p, flags, 0.07)
        if r.random() < 0.02:
            nm = r.choice(PLACEHOLDER_NAMES); flags.add("placeholder_name")
        row = {
            "会员卡号": card,
            "姓名": nm,
            "性别": {"M": "男", "F": "女"}[p["gender"]] if r.random() < 0.9 else "",
            "手机": tel,
            "生日": bday,
            "证件号码": idv,
            "开卡门店": f"{reg[1][:-1]}{r.choice(MALLS)}店",
            "开卡日期": self.ts(2019).strftime("%Y-%m-%d"),
            "累计消费": f"{r.randint(0, 30000)}",
            "储值余额": f"{r.randint(0, 2000)}.00",
            "所属导购": r.choice(self.staff),
        }
        self.rec("pos", p, row, flags)

    def fmt_id(self, p, flags):
        r = self.r
        idc = p["idcard"]
        u = r.random()
        if u < 0.12 and p["birth"].year < 2000:
            flags.add("id15")
            return idc[:6] + idc[8:17][:6] + idc[14:17]
        if u < 0.18:
            flags.add("id_bad_check")
            bad = r.choice([c for c in "0123456789X" if c != idc[-1]])
            return idc[:-1] + bad
        if idc.endswith("X") and r.random() < 0.5:
            return idc[:-1] + "x"
        return idc

    def gen_call(self, p):
        r = self.r
        flags = set()
        kind, ph = self.pick_phone(p, flags, allow_landline=True)
        if kind == "landline":
            tel = self.fmt_landline(ph, "plain")
        else:
            u = r.random()
            tel = ph if u < 0.75 else self.fmt_mobile(ph, "lead0") if u < 0.87 else self.fmt_mobile(ph, "plus86nospace")
            if u >= 0.75 and u < 0.87:
                flags.add("lead0")
        v = r.random()
        if v < 0.5:
            nm = self.salutation(p); flags.add("name_salutation")
        elif v < 0.6:
            nm = p["name"][0] + "总"; flags.add("name_salutation")
        elif v < 0.65:
            nm = "老" + p["name"][0]; flags.add("name_salutation")
        else:
            nm = self.noisy_name(p, flags)
        idv = self.fmt_id(p, flags) if (p["idcard"] and r.random() < 0.45) else ""
        email = p["email"] if (p["email"] and r.random() < 0.5) else ""
        t = self.ts(2023)
        row = {
            "工单编号": "GD" + t.strftime("%Y%m%d") + self.rid(string.digits, 5),
            "来电时间": t.strftime("%Y-%m-%d %H:%M:%S"),
            "来电号码": tel,
            "客户称呼": nm,
            "身份证号": idv,
            "邮箱": email,
            "问题类型": r.choice(TICKET_TYPES),
            "处理结果": r.choice(["已解决", "已解决", "待回访", "已转门店"]),
            "受理坐席": r.choice(self.staff),
        }
        self.rec("call", p, row, flags)

    def gen_overseas(self, p, nth):
        r = self.r
        flags = set()
        u = r.random()
        if u < 0.55:
            nm = self.pinyin_name(p); flags.add("pinyin")
        elif u < 0.65:
            nm = self.trad(self.noisy_name(p, flags)); flags.add("traditional")
        else:
            nm = self.noisy_name(p, flags)
        if p["hk_mobile"] and r.random() < 0.7:
            tel = p["hk_mobile"]; flags.add("hk_phone")
        else:
            if nth > 0 and p["old_mobile"]:
                ph = p["old_mobile"]; flags.add("old_phone")
            else:
                kind, ph = self.pick_phone(p, flags)
                if kind == "landline":
                    ph = p["household"]["phone"]
            tel = self.fmt_mobile(ph, r.choice(["plus86", "plus86", "plain", "paren", "space", "dash"]))
            if tel.startswith("+86 ") and r.random() < 0.5:
                tel = "+86 " + self.fmt_mobile(ph, "space")
        b = p["birth"]
        v = r.random()
        dob = b.strftime("%d/%m/%Y") if v < 0.5 else b.strftime("%Y-%m-%d") if v < 0.8 else f"{b.day} {b.strftime('%b')} {b.year}" if v < 0.93 else ""
        row = {
            "Member ID": "OS" + self.rid(string.digits, 7),
            "Member Name": nm,
            "Gender": {"M": "M", "F": "F"}[p["gender"]] if r.random() < 0.85 else "",
            "Mobile No.": tel,
            "DOB": dob,
            "City": p["region"][2],
            "Email": p["email"] if (p["email"] and r.random() < 0.8) else "",
            "UnionID": p["unionid"] if (p["unionid"] and r.random() < 0.65) else "",
            "Registered At": self.ts(2022).strftime("%d/%m/%Y %H:%M"),
        }
        self.rec("overseas", p, row, flags)

    def generate(self):
        self.build_people()
        self.allocate()
        for p in self.people:
            seen = {}
            for c in p["chans"]:
                nth = seen.get(c, 0)
                seen[c] = nth + 1
                if c == "wecom":
                    self.gen_wecom(p)
                elif c == "youzan":
                    self.gen_youzan(p, nth)
                elif c == "jd":
                    self.gen_jd(p)
                elif c == "leads":
                    self.gen_leads(p)
                elif c == "pos":
                    self.gen_pos(p)
                elif c == "call":
                    self.gen_call(p)
                elif c == "overseas":
                    self.gen_overseas(p, nth)

    # ---------------- writing ----------------
    def write(self, out):
        os.makedirs(out, exist_ok=True)
        truth, meta = [], []
        for ch, spec in CHANNELS.items():
            rows = self.records[ch]
            self.r.shuffle(rows)
            fname = spec["file"]
            cols = [c for c in rows[0] if not c.startswith("__")]
            data = [[row[c] for c in cols] for row in rows]
            pids = [row["__pid"] for row in rows]
            flags = [row["__flags"] for row in rows]
            if ch == "pos":  # trailer row as many POS systems export it
                tot = sum(int(row["累计消费"]) for row in rows)
                data.append(["合计", "", "", "", "", "", "", "", str(tot), "", ""])
                pids.append("JUNK-pos-total"); flags.append("junk")
            path = os.path.join(out, fname)
            if fname.endswith(".xlsx"):
                import openpyxl
                wb = openpyxl.Workbook()
                ws = wb.active
                ws.title = "会员列表"
                ws.append([spec["title"]])
                ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(cols))
                ws.append(cols)
                for d in data:
                    ws.append(d)
                # keep phone/id columns as text like a real export
                wb.save(path)
            else:
                enc = spec.get("encoding", "utf-8")
                with open(path, "w", encoding=enc, newline="") as f:
                    w = csv.writer(f)
                    if spec.get("preamble"):
                        w.writerow([spec["preamble"]] + [""] * (len(cols) - 1))
                    w.writerow(cols)
                    w.writerows(data)
            for i, (pid, fl) in enumerate(zip(pids, flags), start=1):
                truth.append((fname, i, pid))
                meta.append((fname, i, pid, fl))
        with open(os.path.join(out, "truth.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f); w.writerow(["file", "row_number", "person_id"]); w.writerows(truth)
        with open(os.path.join(out, "truth_meta.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f); w.writerow(["file", "row_number", "person_id", "flags"]); w.writerows(meta)
        with open(os.path.join(out, "persons.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["person_id", "name", "gender", "birth", "city", "mobile", "old_mobile", "household", "role",
                        "idcard", "email", "unionid", "nick", "n_records", "channels"])
            for p in self.people:
                w.writerow([p["pid"], p["name"], p["gender"], p["birth"], p["region"][1], p["mobile"], p["old_mobile"] or "",
                            p["household"]["hid"] if p["household"] else "", p.get("role", ""), p["idcard"] or "",
                            p["email"] or "", p["unionid"] or "", p["nick"], len(p["chans"]), "|".join(p["chans"])])
        return truth


CHANNELS = {
    "wecom": {"file": "wecom_contacts.csv", "encoding": "utf-8-sig", "ingest_channel": "crm"},
    "youzan": {"file": "youzan_members.xlsx", "title": "有赞会员导出（导出时间 2024-06-01 10:23:11）", "ingest_channel": "member"},
    "jd": {"file": "jd_orders_gbk.csv", "encoding": "gb18030", "ingest_channel": "jd"},
    "leads": {"file": "leads_ks_xhs.csv", "encoding": "utf-8", "ingest_channel": "other"},
    "pos": {"file": "pos_members.csv", "encoding": "utf-8", "ingest_channel": "pos"},
    "call": {"file": "callcenter_tickets.csv", "encoding": "utf-8-sig", "preamble": "客服工单导出 导出时间:2024-06-01 导出人:客服部",
             "ingest_channel": "crm"},
    "overseas": {"file": "overseas_store.csv", "encoding": "utf-8", "ingest_channel": "wechat_mp"},
}
CH_WEIGHT = {"wecom": 0.15, "youzan": 0.19, "jd": 0.17, "leads": 0.15, "pos": 0.17, "call": 0.10, "overseas": 0.07}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--people", type=int, default=15000)
    a = ap.parse_args()
    g = Gen(a.seed, a.people)
    g.generate()
    t = g.write(a.out)
    from collections import Counter
    c = Counter(x[0] for x in t)
    print(f"seed {a.seed}: {len(g.people)} people, {len(t)} records", dict(c))
    import json
    with open(os.path.join(a.out, "channels.json"), "w") as f:
        json.dump({k: v["file"] for k, v in CHANNELS.items()}, f)
