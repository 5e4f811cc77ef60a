"""Name data: common single surnames (rough frequency order) with their surname reading, surname
reading overrides, compound surnames, and the toneless pinyin syllable inventory.

Surname readings follow the anchors (section 4.7, after pinyin-pro's surname mode): 单 shan, 仇 qiu,
解 xie, 区 ou, 曾 zeng, 查 zha, 朴 piao, 覃 qin, 缪 miao, 盖 gai, 乐 yue, 华 hua, 任 ren, 尉 wei,
莘 shen ...  Pinyin is lower-case and toneless, with ü written ``v`` (pypinyin's ``v_to_u=False``).
The syllable inventory was derived from pypinyin 0.55.0's ``pinyin_dict`` (MIT) with tones removed.
"""
from __future__ import annotations

# "surname+reading" items, most frequent first (the rank is the position)
_SURNAME_TEXT = """
王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu 孙sun 马ma 朱zhu 胡hu 郭guo 何he 林lin 罗luo
高gao 郑zheng 梁liang 谢xie 宋song 唐tang 许xu 韩han 冯feng 邓deng 曹cao 彭peng 曾zeng 肖xiao 田tian 董dong 袁yuan
潘pan 于yu 蒋jiang 蔡cai 余yu 杜du 叶ye 程cheng 苏su 魏wei 吕lv 丁ding 任ren 沈shen 姚yao 卢lu 姜jiang 崔cui 钟zhong
谭tan 陆lu 汪wang 范fan 金jin 石shi 廖liao 贾jia 夏xia 韦wei 付fu 方fang 白bai 邹zou 孟meng 熊xiong 秦qin 邱qiu 江jiang
尹yin 薛xue 闫yan 段duan 雷lei 侯hou 龙long 史shi 陶tao 黎li 贺he 顾gu 毛mao 郝hao 龚gong 邵shao 万wan 钱qian 严yan
覃qin 武wu 戴dai 莫mo 孔kong 向xiang 汤tang 常chang 温wen 康kang 施shi 文wen 牛niu 樊fan 葛ge 邢xing 安an 齐qi 易yi
乔qiao 伍wu 庞pang 颜yan 倪ni 庄zhuang 聂nie 章zhang 鲁lu 岳yue 翟zhai 殷yin 詹zhan 申shen 欧ou 耿geng 关guan 兰lan
焦jiao 俞yu 左zuo 柳liu 甘gan 祝zhu 包bao 宁ning 尚shang 符fu 舒shu 阮ruan 柯ke 纪ji 梅mei 童tong 凌ling 毕bi 单shan
季ji 裴pei 霍huo 涂tu 成cheng 苗miao 谷gu 盛sheng 曲qu 翁weng 冉ran 骆luo 蓝lan 路lu 游you 辛xin 靳jin 管guan 柴chai
蒙meng 鲍bao 华hua 喻yu 祁qi 蒲pu 房fang 滕teng 屈qu 饶rao 解xie 牟mou 艾ai 尤you 阳yang 时shi 穆mu 农nong 司si 卓zhuo
古gu 吉ji 缪miao 简jian 车che 项xiang 连lian 芦lu 麦mai 褚chu 娄lou 窦dou 戚qi 岑cen 景jing 党dang 宫gong 费fei 卜bu
冷leng 晏yan 席xi 卫wei 米mi 柏bai 宗zong 瞿qu 桂gui 全quan 佟tong 应ying 臧zang 闵min 苟gou 邬wu 边bian 卞bian 姬ji
师shi 和he 仇qiu 栾luan 隋sui 商shang 刁diao 沙sha 荣rong 巫wu 寇kou 桑sang 郎lang 甄zhen 丛cong 仲zhong 虞yu 敖ao
巩gong 明ming 佘she 池chi 查zha 麻ma 苑yuan 迟chi 邝kuang 官guan 封feng 谈tan 匡kuang 鞠ju 惠hui 荆jing 乐yue 冀ji 郁yu
胥xu 南nan 班ban 储chu 原yuan 栗li 燕yan 楚chu 鄢yan 劳lao 谌chen 奚xi 皮pi 粟su 冼xian 蔺lin 楼lou 盘pan 满man 闻wen
位wei 厉li 伊yi 仝tong 区ou 郜gao 海hai 阚kan 花hua 权quan 强qiang 帅shuai 屠tu 豆dou 朴piao 盖gai 练lian 廉lian 禹yu
井jing 祖zu 漆qi 巴ba 丰feng 支zhi 卿qing 国guo 狄di 平ping 计ji 索suo 宣xuan 晋jin 相xiang 初chu 门men 云yun 容rong
敬jing 来lai 扈hu 晁chao 芮rui 都du 普pu 阙que 浦pu 戈ge 伏fu 鹿lu 薄bo 邸di 雍yong 辜gu 羊yang 阿a 乌wu 母mu 裘qiu 亓qi
修xiu 邰tai 赫he 杭hang 况kuang 那na 宿su 鲜xian 印yin 逯lu 隆long 茹ru 诸zhu 战zhan 慕mu 危wei 玉yu 银yin 亢kang 嵇ji
公gong 哈ha 湛zhan 宾bin 戎rong 勾gou 茅mao 利li 於yu 呼hu 居ju 揭jie 干gan 但dan 尉wei 冶ye 斯si 元yuan 束shu 檀tan 衣yi
信xin 展zhan 阴yin 昝zan 智zhi 幸xing 奉feng 植zhi 衡heng 富fu 尧yao 闭bi 由you 莘shen 秘bi 召shao 种chong 繁po 员yun
藏zang 能nai 隗wei 句gou 逄pang 祭zhai 折she 过guo 洗xian 黑he 乜nie 缑gou 郇huan 眭sui 禚zhuo 厍she 隽juan
"""

# Readings of characters when used as a surname (pypinyin has no surname mode).
_READING_TEXT = """
单shan 仇qiu 解xie 区ou 曾zeng 查zha 朴piao 覃qin 缪miao 盖gai 乐yue 华hua 任ren 尉wei 莘shen 翟zhai 秘bi 召shao
种chong 繁po 员yun 藏zang 柏bai 车che 石shi 沈shen 宿su 都du 那na 能nai 燕yan 阚kan 万wan 隗wei 句gou 逄pang 祭zhai
折she 殷yin 宁ning 纪ji 过guo 洗xian 冼xian 牟mou 黑he 薄bo 卜bu 贾jia 亓qi 阿a 於yu 干gan 但dan 冶ye 相xiang 行xing
长chang 朝chao 曲qu 应ying 强qiang 乜nie 缑gou 谌chen 郇huan 眭sui 禚zhuo 厍she 隽juan 费fei 夏xia 叶ye 宓mi 颉xie
粘nian 传chuan 校xiao
"""

_COMPOUND_TEXT = """
欧阳ouyang 司马sima 上官shangguan 诸葛zhuge 东方dongfang 皇甫huangfu 尉迟yuchi 公孙gongsun 慕容murong 令狐linghu
长孙zhangsun 宇文yuwen 司徒situ 司空sikong 夏侯xiahou 轩辕xuanyuan 端木duanmu 万俟moqi 单于chanyu 澹台tantai 钟离zhongli
闾丘lvqiu 南宫nangong 西门ximen 呼延huyan 拓跋tuoba 第五diwu 百里baili 东郭dongguo 公羊gongyang 赫连helian 申屠shentu
太叔taishu 濮阳puyang 淳于chunyu 仲孙zhongsun 乐正yuezheng 漆雕qidiao 公冶gongye 谷梁guliang 左丘zuoqiu 东门dongmen
羊舌yangshe 梁丘liangqiu 宗政zongzheng 颛孙zhuansun 巫马wuma 公西gongxi 亓官qiguan 司寇sikou 段干duangan 独孤dugu
贺兰helan 完颜wanyan 纳兰nalan 夹谷jiagu 即墨jimo 闻人wenren 公良gongliang 子车ziju 壤驷rangsi 微生weisheng 仉督zhangdu
东宫donggong 司城sicheng 鲜于xianyu 宰父zaifu
"""

_SYLLABLE_TEXT = """
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu ca cai
can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai
chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di
dia dian diao die din ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng
fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha
hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao
jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan
kuang kui kun kuo la lai lan lang lao le lei len leng li lia lian liang liao lie lin ling liu lo
long lou lu luan lue lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min ming
miu mo mou mu na nai nan nang nao ne nei nen neng ni nia nian niang niao nie nin ning niu nong nou
nu nuan nue nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu
qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou
ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng
shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang
tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo
wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying
yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei
zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo
"""

SURNAME_READINGS: dict[str, str] = {i[0]: i[1:] for i in _READING_TEXT.split()}
SURNAMES: dict[str, str] = {}
for _i in _SURNAME_TEXT.split():
    SURNAMES.setdefault(_i[0], _i[1:])
COMPOUND_SURNAMES: dict[str, str] = {i[:2]: i[2:] for i in _COMPOUND_TEXT.split()}
PINYIN_SYLLABLES: frozenset[str] = frozenset(_SYLLABLE_TEXT.split())
