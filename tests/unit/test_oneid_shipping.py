"""Orders shipped to someone else (governance/oneid/links.py `shipping_contacts_sql`, the
`same_buyer_account` rule and the model guard in resolve.py): an order row belongs to its buyer
account, while its receiver's name and phone may be another person's. Such a row links by its
account, never by its receiver's contact.

Evidence: a note that speaks of a gift; a payment account (masked mobile) the receiver's mobile does
not fit, unless a record whose mobile fits it carries the receiver's name or the buyer's nick spells
the receiver's name; a buyer's nick that spells another name; a receiver other than the one most of
the account's orders go to. A relay number (17122053405-1050) is no one's. Every test that keeps a row apart also shows a control
linking in the same store."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from test_oneid_rules import apart, crosswalk, together

from governance import pipeline
from governance.oneid import links
from governance.oneid import resolve as oneid
from governance.privacy import erasure
from governance.sources import ingest
from helpers import SAVED_MODEL

ORDER_COLUMNS = {"买家会员名": "ecommerce_buyer_id", "收货人姓名": "name", "收货人手机": "mobile",
                 "买家支付宝账号": None, "买家留言": None}
CRM_COLUMNS = {"姓名": "name", "手机号": "mobile"}
# CRM rows of other people: a store where a batch of one or two records leaves the next run incremental
OTHERS = {f"crm{i}": {"姓名": name, "手机号": f"1390000{i:04d}"} for i, name in enumerate("张伟 王芳 刘洋 陈静 杨帆 黄磊 周杰 吴敏".split())}


def load(db, tmp_path: Path, orders: dict[str, dict[str, str]], crm: dict[str, dict[str, str]]) -> dict[str, tuple[str, int]]:
    """Ingest the order rows (label -> {header: value}) as a Tmall export and the CRM rows, the order
    note and payment account left unmapped; standardize. Returns label -> (source, row_number)."""
    keys: dict[str, tuple[str, int]] = {}
    for source, channel, columns, rows in (("tmall", "tmall", ORDER_COLUMNS, orders), ("crm", "crm", CRM_COLUMNS, crm)):
        path = tmp_path / f"{source}.csv"
        lines = [",".join(columns)] + [",".join(r.get(c, "") for c in columns) for r in rows.values()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ingest.ingest_file(db, path, actor="t", source=source, channel=channel, mapping=columns)
        keys.update({label: (source, i) for i, label in enumerate(rows, start=1)})
    pipeline.standardize(db, "t")
    return keys


def shipping(db, keys) -> set[str]:
    """Labels of the rows shipping_contacts_sql finds shipped to someone else."""
    with db.cursor() as cur:
        rids = {r[0] for r in cur.execute(links.shipping_contacts_sql(cur)).fetchall()}
        by_rid = {links.rec_id(b, r): (s, r) for b, s, r in cur.execute("SELECT batch_id, source, row_number FROM std_records").fetchall()}
    return {label for label, key in keys.items() if any(by_rid[rid] == key for rid in rids)}


def order(buyer: str, name: str, mobile: str, payer: str = "", note: str = "") -> dict[str, str]:
    return {"买家会员名": buyer, "收货人姓名": name, "收货人手机": mobile, "买家支付宝账号": payer, "买家留言": note}


def test_a_gift_note_keeps_the_order_from_its_receiver_and_with_its_buyer(db, tmp_path):
    keys = load(db, tmp_path, {
        "own": order("wangqiang88", "王强", "13800000001"),
        "gift": order("wangqiang88", "李娜", "13800000002", note="送朋友的生日礼物，不要放发票"),
        "plain": order("chenjing_1", "陈静", "13800000003", note="请尽快发货"),  # the control
    }, {
        "li_na": {"姓名": "李娜", "手机号": "13800000002"},
        "chen_jing": {"姓名": "陈静", "手机号": "13800000003"},
    })
    assert shipping(db, keys) == {"gift"}
    placed = crosswalk(db, keys)
    assert together(placed, "plain", "chen_jing")                       # a receiver's own order links by its contact
    assert apart(placed, "gift", "li_na")                                # the gift does not
    assert together(placed, "gift", "own") and placed["gift"][1] == "same_buyer_account"


@pytest.mark.parametrize("note", ["给妈妈买的，别放价格单", "买给老公的", "替我姐下单", "for my mom - please wrap it", "送爸妈",
                                  "帮同事买的", "代朋友下单"])
def test_a_note_that_the_order_is_for_someone_else_marks_it(db, tmp_path, note):
    keys = load(db, tmp_path, {
        "own": order("wangqiang88", "王强", "13800000001"),
        "gift": order("wangqiang88", "李娜", "13800000002", note=note),
        "plain": order("chenjing_1", "陈静", "13800000003", note="帮我包装一下，给我发顺丰，多送点小样"),  # controls
        "own_use": order("zhoumin_2", "周敏", "13800000004", note="给宝宝用的，要无香型"),     # the parent receives it
        "seller": order("sunli_3", "孙丽", "13800000005", note="给客户补发一件，给朋友圈晒图"),
        "english": order("wuhao_4", "吴浩", "13800000006", note="great for family use"),
        "delivery": order("zhengyu_5", "郑宇", "13800000007", note="周末送，送货前电话"),
    }, {"li_na": {"姓名": "李娜", "手机号": "13800000002"}})
    assert shipping(db, keys) == {"gift"}


def test_an_order_whose_account_is_masked_is_judged_by_its_own_note_and_payment_account(db, tmp_path):
    keys = load(db, tmp_path, {
        "masked_gift": order("150****8396_556", "李娜", "13800000002", note="送朋友"),
        "masked_paid": order("186****1234_101", "王强", "13800000001", payer="138****0001"),  # its receiver paid
        "own": order("tb5550001", "王强", "13800000001"),  # so a masked account may be this one: not another's
        "masked_plain": order("139****0000_202", "陈静", "13800000003"),
    }, OTHERS)
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM std_records WHERE ecommerce_buyer_id_status = 'masked'").fetchone()[0] == 3
    assert shipping(db, keys) == {"masked_gift"}


def test_a_payment_account_the_receiver_does_not_fit_marks_the_order(db, tmp_path):
    keys = load(db, tmp_path, {
        "other": order("zw2020", "张伟", "13800000004", payer="139****0001"),
        "payer": order("liuyang", "刘洋", "13800000005", payer="138****0005", note="礼物，请帮忙包装"),
    }, {
        "zhang_wei": {"姓名": "张伟", "手机号": "13800000004"},
        "liu_yang": {"姓名": "刘洋", "手机号": "13800000005"},
    })
    # the payer's own mobile on the order: the receiver is the payer, whatever the note says
    assert shipping(db, keys) == {"other"}
    placed = crosswalk(db, keys)
    assert apart(placed, "other", "zhang_wei")
    assert together(placed, "payer", "liu_yang")


def test_a_payer_known_under_the_receivers_name_is_the_receiver(db, tmp_path):
    keys = load(db, tmp_path, {
        "old_phone": order("zhaomin", "赵敏", "13800001234", payer="139****1111"),
        "gift": order("sunli", "周杰", "13800005678", payer="137****2222"),
    }, {
        "zhao_new": {"姓名": "赵敏", "手机号": "13900001111"},     # her number now: it fits the payment account
        "zhao_old": {"姓名": "赵敏", "手机号": "13800001234"},
        "zhou_jie": {"姓名": "周杰", "手机号": "13800005678"},
        "sun_li": {"姓名": "孙丽", "手机号": "13700002222"},       # the payer of the gift
    })
    assert shipping(db, keys) == {"gift"}
    placed = crosswalk(db, keys)
    assert together(placed, "old_phone", "zhao_old")
    assert apart(placed, "gift", "zhou_jie")


def test_a_receiver_whose_name_the_buyers_nick_spells_is_the_buyer(db, tmp_path):
    """Paid from another number of the buyer's own (an old one, a family phone): the nick names them."""
    keys = load(db, tmp_path, {
        "own": order("zhaohao964", "赵浩", "13800007001", payer="139****0002"),
        "own_reversed": order("jiehaoren_1990", "任杰浩", "13800007002", payer="137****0003"),
        "gift": order("zhaohao_88", "孙丽", "13800007003", payer="139****0004"),  # another name: shipped to her
        "near": order("wanglin88", "王丽", "13800007004", payer="139****0005"),    # wangli is no word of wanglin88
    }, {
        "zhao_hao": {"姓名": "赵浩", "手机号": "13800007001"},
        "ren_jiehao": {"姓名": "任杰浩", "手机号": "13800007002"},
        "sun_li": {"姓名": "孙丽", "手机号": "13800007003"},
    })
    assert shipping(db, keys) == {"gift", "near"}
    placed = crosswalk(db, keys)
    assert together(placed, "own", "zhao_hao") and together(placed, "own_reversed", "ren_jiehao")
    assert apart(placed, "gift", "sun_li")


def test_a_buyer_nick_that_spells_another_name_marks_the_order(db, tmp_path):
    """No note and no payment account: a nick that spells a Chinese name (zhangwei1988) other than the
    receiver's says the account's holder is not the receiver."""
    keys = load(db, tmp_path, {
        "gift": order("zhangwei1988", "李娜", "13800008001"),
        "gift_compound": order("ouyang_min_07", "孙丽", "13800008002"),  # no name nick (a separator inside): no evidence
        "own": order("zhangwei1988", "张伟", "13800008003"),
        "own_reading": order("tanyaling_66", "覃雅玲", "13800008004"),     # 覃 read tan in the nick, qin in the name
        "no_digits": order("zhangwei", "李娜", "13800008005"),             # a nick of letters only may be a word
        "word_nick": order("tb7733001", "李娜", "13800008006"),
        "surname_only": order("liang88", "梁伟", "13800008007"),           # no li + ang
        "pet_name": order("tiantian88", "李娜", "13800008008"),            # a doubled syllable
        "usual_1": order("xingfu1314", "王芳", "13800008009"),             # 邢福? where its orders go tells more
        "usual_2": order("xingfu1314", "王芳", "13800008009"),
    }, {
        "li_na": {"姓名": "李娜", "手机号": "13800008001"},
        "zhang_wei": {"姓名": "张伟", "手机号": "13800008003"},
        "qin_yaling": {"姓名": "覃雅玲", "手机号": "13800008004"},
    })
    assert shipping(db, keys) == {"gift"}
    placed = crosswalk(db, keys)
    assert apart(placed, "gift", "li_na")
    assert together(placed, "own", "zhang_wei") and together(placed, "own_reading", "qin_yaling")


def test_an_order_to_the_holder_of_another_account_is_shipped_to_them(db, tmp_path):
    """孙丽娜 holds sunlina1990 (its nick spells her) and 赵敏 pays her own orders (payer fits her mobile):
    another account's order to either is one shipped to someone else, and stays out of their records."""
    keys = load(db, tmp_path, {
        "li_own": order("sunlina1990", "孙丽娜", "13800009001"),
        "li_gift": order("tb5550001", "孙丽娜", "13800009001"),
        "zhao_own": order("tb5550002", "赵敏", "13800009002", payer="138****9002"),
        "zhao_gift": order("tb5550003", "赵敏", "13800009002"),
        "plain_1": order("tb5550004", "陈静", "13800009003"),   # the control: no account shows whose 陈静 is
        "plain_2": order("tb5550005", "陈静", "13800009003"),
    }, {"li_na": {"姓名": "孙丽娜", "手机号": "13800009001"}})
    assert shipping(db, keys) == {"li_gift", "zhao_gift"}
    placed = crosswalk(db, keys)
    assert together(placed, "li_own", "li_na") and apart(placed, "li_gift", "li_na")
    assert together(placed, "plain_1", "plain_2")


def test_a_batch_that_shows_a_receiver_holds_an_account_takes_other_accounts_orders_to_them(db, tmp_path):
    """An incremental run: the new order of sunlina1990 shows whose 孙丽娜 is, so the earlier order of
    another account to her is now shipped to someone else, as a full run finds."""
    keys = load(db, tmp_path, {"gift": order("tb5550011", "孙丽娜", "13800009011")},
                {"li_na": {"姓名": "孙丽娜", "手机号": "13800009011"}, **OTHERS})
    assert oneid.resolve(db, "t", model_json=SAVED_MODEL).mode == "full" and shipping(db, keys) == set()
    path = tmp_path / "tmall2.csv"
    path.write_text(",".join(ORDER_COLUMNS) + "\n" + ",".join(order("sunlina1990", "孙丽娜", "13800009011").values()) + "\n",
                    encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="tmall", channel="tmall", mapping=ORDER_COLUMNS, force=True)
    pipeline.standardize(db, "t")
    assert oneid.resolve_changed(db, "t", SAVED_MODEL).mode == "incremental"
    with db.cursor() as cur:
        taken = {r for (r,) in cur.execute("SELECT rec_id FROM oneid_shipping").fetchall()}
        batches = dict(cur.execute("SELECT source, min(batch_id) FROM std_records GROUP BY source").fetchall())
        gift, li_na = (links.rec_id(batches[s], r) for s, r in (keys["gift"], keys["li_na"]))
        oneid_of = dict(cur.execute("SELECT rec_id, oneid FROM crosswalk WHERE rec_id IN (?, ?)", [gift, li_na]).fetchall())
    assert taken == {gift}
    assert oneid_of[gift] != oneid_of[li_na]


def test_an_incremental_run_keeps_an_order_to_the_holder_of_an_account_it_does_not_touch(db, tmp_path):
    """tb5550021 is worked out again (it had a gift), and its order to 孙丽娜 stays one shipped to
    someone else although her account sunlina1990 is not among the accounts worked out: the restricted
    computation reads the other accounts' orders to the same phones, and agrees with a full one."""
    keys = load(db, tmp_path, {
        "holder": order("sunlina1990", "孙丽娜", "13800009021"),
        "gift": order("tb5550021", "孙丽娜", "13800009021"),
        "noted": order("tb5550021", "周杰", "13800009022", note="送朋友的礼物"),
    }, OTHERS)
    assert oneid.resolve(db, "t", model_json=SAVED_MODEL).mode == "full" and shipping(db, keys) == {"gift", "noted"}
    path = tmp_path / "crm2.csv"
    path.write_text("姓名,手机号\n赵敏,13900019999\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="crm", channel="crm", mapping=CRM_COLUMNS, force=True)
    pipeline.standardize(db, "t")
    assert oneid.resolve_changed(db, "t", SAVED_MODEL).mode == "incremental"
    with db.cursor() as cur:
        taken = {r for (r,) in cur.execute("SELECT rec_id FROM oneid_shipping").fetchall()}
        accounts = "SELECT account FROM (VALUES ('tmall|buyer:tb5550021')) t(account)"
        restricted = set(cur.execute(links.shipping_contacts_sql(cur, accounts)).fetchall())
        full = {(r, a) for r, a in cur.execute(links.shipping_contacts_sql(cur)).fetchall() if a == "tmall|buyer:tb5550021"}
    assert restricted == full and len(full) == 2
    assert taken == {r for r, _ in full}


def test_a_relay_number_identifies_no_one(db, tmp_path):
    """A platform's privacy number with its extension (17122053405-1050) serves one order: it neither
    links two receivers nor tells whether the payer is the receiver."""
    keys = load(db, tmp_path, {
        "relay_1": order("tb1001", "王强", "17122053405-1050"),
        "relay_2": order("tb1002", "王强", "17122053405-2222"),
        "paid": order("tb1003", "陈静", "17122053405-3333", payer="139****0001"),
        "plain_1": order("tb1004", "刘洋", "13800008101"),  # the control: one mobile, one name
        "plain_2": order("tb1005", "刘洋", "13800008101"),
    }, {"zhao_min": {"姓名": "赵敏", "手机号": "13900000002"}})
    assert shipping(db, keys) == set()
    placed = crosswalk(db, keys)
    assert apart(placed, "relay_1", "relay_2")
    assert together(placed, "plain_1", "plain_2")


def test_a_receiver_other_than_the_accounts_usual_one_is_shipped_to(db, tmp_path):
    keys = load(db, tmp_path, {
        "own1": order("sunli77", "孙丽", "13800000011"),
        "own2": order("sunli77", "孙丽", "13800000011"),
        "family": order("sunli77", "周杰", "13800000012"),
    }, {
        "zhou_jie": {"姓名": "周杰", "手机号": "13800000012"},
        "sun_li": {"姓名": "孙丽", "手机号": "13800000011"},
    })
    assert shipping(db, keys) == {"family"}
    placed = crosswalk(db, keys)
    assert together(placed, "own1", "own2", "family", "sun_li")
    assert apart(placed, "family", "zhou_jie")


def test_a_gift_joins_its_account_only_when_the_accounts_own_orders_name_one_person(db, tmp_path):
    keys = load(db, tmp_path, {
        "a": order("shared_nick", "吴磊", "13800000021"),
        "b": order("shared_nick", "郑爽", "13800000022"),
        "a_gift": order("shared_nick", "李娜", "13800000025", note="送给朋友"),
        "c1": order("one_person", "何静", "13800000023"),   # the control: one person, two phones
        "c2": order("one_person", "何静", "13800000024"),
        "c_gift": order("one_person", "冯巩", "13800000026", note="生日礼物"),
    }, {"wu_lei": {"姓名": "吴磊", "手机号": "13800000021"}})
    assert shipping(db, keys) == {"a_gift", "c_gift"}
    placed = crosswalk(db, keys)
    assert together(placed, "c1", "c_gift") and placed["c_gift"][1] == "same_buyer_account"
    assert apart(placed, "a", "b", "a_gift")
    assert together(placed, "a", "wu_lei")
    assert apart(placed, "c1", "c2")  # the account links its gifts, not its own orders: those need their own evidence


def test_the_model_does_not_auto_link_a_shipped_order_to_another_account(db):
    """The guard in the model's auto-links: a pair with an order shipped to someone else links only
    when both records share the account (gamma_account > 0); a steward decides the rest."""
    with db.cursor() as cur:
        cur.execute("CREATE TEMP TABLE _pairs AS SELECT * FROM (VALUES (1::BIGINT, 2::BIGINT, 0.999, '13800000001', 4, 3, 0), "
                    "(1, 3, 0.999, '13800000001', 4, 3, 2), (4, 5, 0.999, '13800000009', 4, 3, 0), "
                    "(6, 7, 0.999, '13800000077', 0, 3, 0), (8, 9, 0.999, '13800000077', NULL, 3, 0)) "
                    "t(rec_l, rec_r, match_probability, mobile, gamma_name, gamma_mobile, gamma_account)")
        cur.execute("CREATE TEMP TABLE _decided (rec_l BIGINT, rec_r BIGINT)")
        cur.execute("CREATE TEMP TABLE _shipping AS SELECT 1::BIGINT AS rid")
        cur.execute("CREATE TEMP TABLE _held AS " + oneid._held_sql(
            ["rec_l", "rec_r", "match_probability", "mobile", "gamma_name", "gamma_mobile", "gamma_account"]))
        held = set(cur.execute("SELECT rec_l, rec_r FROM _held").fetchall())
        linked = {(a, b) for a, b, _ in cur.execute(oneid._AUTO_LINKS, [0.99]).fetchall()}
    # 6 and 7 name two people; 8 and 9 were not compared on names (no household phone: no guard)
    assert linked == {(1, 3), (4, 5), (8, 9)} and held == {(1, 2), (6, 7)}


def test_the_household_guard_holds_back_only_pairs_that_share_a_household_phone(db, tmp_path):
    """Two names on one phone make it a household's: a pair matching on that phone alone waits for a
    steward; a pair without a phone is no phone match, whatever else the guard's lookup finds."""
    path = tmp_path / "family.csv"
    path.write_text("姓名,手机号\n张伟,13800000088\n李娜,13800000088\n", encoding="utf-8")
    pipeline.load_file(db, "t", path, source="crm", channel="crm")
    with db.cursor() as cur:
        cur.execute("CREATE TEMP TABLE _pairs AS SELECT * FROM (VALUES (1::BIGINT, 2::BIGINT, 0.999, '13800000088', -1, 3), "
                    "(3, 4, 0.999, NULL, -1, 3)) t(rec_l, rec_r, match_probability, mobile, gamma_name, gamma_mobile)")
        cur.execute("CREATE TEMP TABLE _shipping (rid BIGINT)")
        held = cur.execute(oneid._held_sql(["rec_l", "rec_r", "match_probability", "mobile", "gamma_name",
                                            "gamma_mobile"])).fetchall()
    assert held == [(1, 2)]


def test_order_notes_and_payers_are_read_from_their_columns_only(db, tmp_path):
    """A gift word in an item title is no note, and a source without such columns still resolves."""
    path = tmp_path / "orders.csv"
    path.write_text("买家会员名,收货人姓名,收货人手机,宝贝标题\nqq1,韩梅,13800000031,香氛礼物礼盒\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="orders", channel="tmall",
                       mapping={"买家会员名": "ecommerce_buyer_id", "收货人姓名": "name", "收货人手机": "mobile", "宝贝标题": None})
    pipeline.standardize(db, "t")
    with db.cursor() as cur:
        assert cur.execute(links.shipping_contacts_sql(cur)).fetchall() == []
    empty = duckdb.connect()
    empty.execute("CREATE TABLE batches (batch_id BIGINT, table_name VARCHAR)")
    empty.execute("CREATE TABLE batch_columns (batch_id BIGINT, position INTEGER, column_name VARCHAR, header VARCHAR)")
    assert links._order_notes_sql(empty) == (None, False)


def test_a_douyin_account_takes_its_gifts_like_a_buyer_account(db, tmp_path):
    path = tmp_path / "douyin.csv"
    path.write_text("抖音用户ID,联系人,电话,留言\ndy_000123,陈晨,13800000041,\ndy_000123,许诺,13900000042,送朋友的礼物\n"
                    "dy_000456,钱多多,13800000043,\ndy_000456,孔明,13800000044,\n", encoding="utf-8")
    ingest.ingest_file(db, path, actor="t", source="douyin", channel="douyin",
                       mapping={"抖音用户ID": "douyin_id", "联系人": "name", "电话": "mobile", "留言": None})
    pipeline.standardize(db, "t")
    placed = crosswalk(db, {f"row{i}": ("douyin", i) for i in range(1, 5)})
    assert together(placed, "row1", "row2") and placed["row2"][1] == "same_buyer_account"
    assert apart(placed, "row3", "row4")  # no gift: the account alone links nothing


def test_an_erased_order_can_leave_another_of_its_account_shipped_elsewhere_and_an_incremental_run_finds_it(db, tmp_path):
    """Two orders to 李娜 and two to 张伟: no usual receiver, nothing shipped elsewhere. Once one 李娜 order
    is erased (retention, a deletion request), 张伟 is the usual receiver: the next run, incremental, takes
    the other 李娜 order for one shipped to someone else, as a computation over every account does."""
    keys = load(db, tmp_path, {
        "li_1": order("nick1", "李娜", "13800000011"), "li_2": order("nick1", "李娜", "13800000011"),
        "zw_1": order("nick1", "张伟", "13800000012"), "zw_2": order("nick1", "张伟", "13800000012"),
    }, {"chen_jing": {"姓名": "陈静", "手机号": "13800000003"}})
    assert oneid.resolve(db, "t", model_json=SAVED_MODEL).mode == "full" and shipping(db, keys) == set()
    with db.transaction() as cur:
        (batch,) = cur.execute("SELECT DISTINCT batch_id FROM std_records WHERE source = 'tmall'").fetchone()
        erasure.erase(cur, [(batch, keys.pop("li_1")[1])])
    assert oneid.resolve_changed(db, "t", SAVED_MODEL).mode == "incremental"
    with db.cursor() as cur:
        taken = {r for (r,) in cur.execute("SELECT rec_id FROM oneid_shipping").fetchall()}
    assert shipping(db, keys) == {"li_2"} and taken == {links.rec_id(batch, keys["li_2"][1])}
