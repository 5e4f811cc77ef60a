"""Activation files and pushes: each channel's layout, the exclusions no file escapes, the record of every
file, and webhook and outbox pushes (a local receiver checks the signature)."""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import stat
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from governance import pipeline
from governance.access import auth
from governance.access.events import Event
from governance.audiences import activation, library, push
from governance.audiences.activation import ActivationError
from governance.audiences.push import PushError
from governance.privacy import consent, dsr
from governance.store.config import secrets_path
from governance.store.errors import ConfigError, PermissionDenied
from helpers import build_template, store_copy

APP = "wx0123456789abcdef"
SHOP = ("订单号,姓名,手机号,城市,出生日期,实付金额,下单时间,订单状态\n"
        "DD1,王建国,13957112233,深圳市,1990-05-01,100.00,2026-11-20 10:00:00,已完成\n"
        "DD2,刘晓梅,13671234598,北京市,1985-01-01,300.00,2026-10-01 10:00:00,已完成\n"
        "DD3,陈志强,13788889999,广州市,1980-03-03,50.00,2026-11-01 10:00:00,已完成\n"
        "DD4,李小明,13811112222,上海市,2016-06-01,20.00,2026-11-02 10:00:00,已完成\n"
        "DD5,赵敏,13522223333,杭州市,1992-02-02,80.00,2026-11-03 10:00:00,已完成\n")
WECHAT = ("手机,openid,appid,unionid\n"
          f"13957112233,oWangOpenId000000001,{APP},oUnionWang0000000001\n"
          f"13671234598,oLiuOpenId0000000002,{APP},\n"
          f"13811112222,oMingOpenId000000003,{APP},oUnionMing0000000003\n"
          f"13522223333,oZhaoOpenId000000004,{APP},oUnionZhao0000000004\n")
IN = ("13671234598", "13957112233")                  # 刘晓梅, 王建国: consent granted, adults
OUT = ("13788889999", "13811112222", "13522223333")  # no consent, a minor without a guardian, erased
OUT_IDS = ("oMingOpenId000000003", "oZhaoOpenId000000004", "oUnionMing0000000003", "oUnionZhao0000000004")
EVERYONE = {"field": "channel_count", "gte": 1}
SECRET = "test-webhook-secret-不要外传"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The store every test starts from, built once per module; each test gets its own copy. A secrets
    file of the module's own holds the webhook's secret beside the usual ones."""
    folder = tmp_path_factory.mktemp("activation_template")
    secrets = folder / "secrets.toml"
    secrets.write_text(secrets_path().read_text(encoding="utf-8") + f'webhook_hook = "{SECRET}"\n', encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_SECRETS_FILE", str(secrets))
        build_template(folder / "store" / "test.duckdb", lambda db: build(db, folder))
    return folder


def build(db, folder: Path) -> None:
    for name, text, channel in (("shop", SHOP, "tmall"), ("mp", WECHAT, "wechat_mp")):
        path = folder / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        pipeline.load_file(db, "t", path, source=name, channel=channel)
    for user, role in (("s1", "steward"), ("ana", "analyst"), ("adm", "admin")):
        auth.create_user(db, "t", user, "a long enough password", role)
    pipeline.resolve(db, "t", use_model=False)
    for mobile in (*IN, "13811112222", "13522223333"):
        for purpose in ("marketing", "third_party_sharing"):  # ad-platform uploads need both
            consent.grant(db, "s1", oneid(db, mobile), purpose, method="written")
    request_id = dsr.create(db, "s1", "deletion", "赵敏", oneids=[oneid(db, "13522223333")])
    dsr.verify(db, "s1", request_id, "ID card checked at the counter")
    pipeline.delete_person(db, "s1", request_id)
    library.save(db, "s1", "everyone", EVERYONE, "marketing")


@pytest.fixture
def store(template, tmp_path, monkeypatch):
    monkeypatch.setenv("STEWARD_SECRETS_FILE", str(template / "secrets.toml"))
    with store_copy(template / "store" / "test.duckdb", tmp_path / "store" / "test.duckdb") as db:
        yield db


def oneid(db, mobile: str) -> str:
    with db.cursor() as cur:
        return cur.execute("SELECT oneid FROM golden_wide WHERE mobile = ?", [mobile]).fetchone()[0]


def export(db, tmp_path, channel: str, **kw) -> activation.ActivationResult:
    out = tmp_path / "out" / f"{channel}-{kw.get('hash', 'x')}-{kw.get('app_id', 'x')}.{activation.EXTENSIONS[channel]}"
    return activation.export(db, "s1", "steward", "everyone", channel, kw.pop("purpose", "marketing"), out, **kw)


def _md5(v: str) -> str:
    return hashlib.md5(v.encode()).hexdigest()


def _sha(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


def test_sms_file_holds_the_normalized_mobiles_of_eligible_people_only(store, tmp_path):
    result = export(store, tmp_path, "sms")
    assert result.path.read_bytes() == b"13671234598\n13957112233\n"
    assert result.rows == 2 and result.checksum == hashlib.sha256(result.path.read_bytes()).hexdigest()


@pytest.mark.parametrize("channel,hash_name", [("douyin_dmp", "md5"), ("douyin_dmp", "sha256"),
                                               ("databank", "md5"), ("databank", "sha256")])
def test_ad_platform_files_hold_lower_hex_hashes_of_the_mobile(store, tmp_path, channel, hash_name):
    result = export(store, tmp_path, channel, hash=hash_name)
    digest = _md5 if hash_name == "md5" else _sha
    assert result.path.read_bytes() == "".join(f"{h}\n" for h in sorted(digest(m) for m in IN)).encode("ascii")


def test_tencent_ads_file_is_a_zip_of_one_text_file(store, tmp_path):
    result = export(store, tmp_path, "tencent_ads", hash="md5")
    with zipfile.ZipFile(result.path) as zf:
        assert zf.namelist() == [f"{result.path.stem}.txt"]
        body = zf.read(zf.namelist()[0])
    assert body == "".join(f"{h}\n" for h in sorted(_md5(m) for m in IN)).encode("ascii")
    assert result.rows == 2


def test_wechat_files_hold_open_ids_per_app_or_union_ids(store, tmp_path):
    per_app = export(store, tmp_path, "wechat", app_id=APP)
    assert per_app.path.read_bytes() == (f"app_id,open_id\n{APP},oLiuOpenId0000000002\n"
                                         f"{APP},oWangOpenId000000001\n").encode()
    union = export(store, tmp_path, "wechat")
    assert union.path.read_bytes() == b"union_id\noUnionWang0000000001\n"  # 刘晓梅 has no union_id
    other_app = export(store, tmp_path, "wechat", app_id="wxffffffffffffffff")
    assert other_app.path.read_bytes() == b"app_id,open_id\n" and other_app.rows == 0


def test_sms_needs_the_marketing_purpose_and_a_role_that_may_export(store, tmp_path):
    with pytest.raises(ActivationError, match="purpose 'marketing'"):
        export(store, tmp_path, "sms", purpose="analytics")
    with pytest.raises(ActivationError, match="consent purpose"):
        export(store, tmp_path, "sms", purpose="because")
    for channel in ("wechat", "douyin_dmp", "databank", "tencent_ads"):  # the most-granted purpose is no way round
        with pytest.raises(ActivationError, match="purpose 'marketing'"):
            export(store, tmp_path, channel, purpose="analytics")
    assert activation.check_request("steward", "csv", "analytics") == "analytics"  # an agency file: any purpose
    with pytest.raises(PermissionDenied):
        activation.export(store, "ana", "analyst", "everyone", "sms", "marketing", tmp_path / "a.txt")
    with pytest.raises(ActivationError, match="Unknown channel"):
        activation.check_request("steward", "fax", "marketing")
    with pytest.raises(ActivationError, match="Unknown hash"):
        activation.check_request("steward", "douyin_dmp", "marketing", hash="crc32")
    assert not (tmp_path / "a.txt").exists()


def test_no_file_ever_holds_a_person_without_consent_a_minor_or_an_erased_person(store, tmp_path):
    consent.withdraw(store, "s1", oneid(store, "13957112233"), "marketing", method="written")
    bodies = []
    for channel, kw in (("sms", {}), ("douyin_dmp", {"hash": "md5"}), ("databank", {"hash": "sha256"}),
                        ("wechat", {"app_id": APP}), ("wechat", {}), ("csv", {"masked": False})):
        result = export(store, tmp_path, channel, **kw)
        bodies.append(result.path.read_text(encoding="utf-8-sig"))
    with zipfile.ZipFile(export(store, tmp_path, "tencent_ads", hash="sha256").path) as zf:
        bodies.append(zf.read(zf.namelist()[0]).decode())
    text = "\n".join(bodies)
    for mobile in (*OUT, "13957112233"):  # 王建国 withdrew just now
        for value in (mobile, _md5(mobile), _sha(mobile)):
            assert value not in text, mobile
    for value in (*OUT_IDS, "oWangOpenId000000001", "oUnionWang0000000001"):
        assert value not in text
    assert "13671234598" in text and _md5("13671234598") in text and _sha("13671234598") in text


def test_csv_goes_through_the_export_rules_masked_with_a_manifest(store, tmp_path):
    result = export(store, tmp_path, "csv", fields=("oneid", "name", "mobile", "city"))
    with open(result.path, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["oneid"] for r in rows) == sorted(oneid(store, m) for m in IN)
    assert {r["mobile"] for r in rows} == {"136****4598", "139****2233"}
    manifest = json.loads(Path(f"{result.path}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["filter"] == {"audience": "everyone v1"} and manifest["row_count"] == 2 and manifest["masked"]
    assert manifest["sha256"] == result.checksum and "formulas_neutralized" in manifest["rules"]
    xlsx = export(store, tmp_path, "xlsx", fields=("oneid", "city"))
    assert xlsx.rows == 2 and xlsx.path.read_bytes()[:2] == b"PK"


def test_files_are_private_recorded_and_audited(store, tmp_path):
    results = [export(store, tmp_path, "sms"), export(store, tmp_path, "tencent_ads"), export(store, tmp_path, "csv")]
    for result in results:
        assert stat.S_IMODE(os.stat(result.path).st_mode) == 0o600, result.path
    assert not [p for p in results[0].path.parent.iterdir() if ".steward-part-" in p.name]
    with store.cursor() as cur:
        rows = cur.execute("SELECT activation_id, audience, audience_version, channel, purpose, file_name, row_count, "
                           "bytes, checksum, masked, status, actor FROM activations ORDER BY activation_id").fetchall()
        audits = cur.execute("SELECT object_id, detail FROM audit_log WHERE action = ? ORDER BY id",
                             [Event.AUDIENCE_EXPORT.value]).fetchall()
    assert [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[8], r[9], r[10], r[11]) for r in rows] == [
        (res.activation_id, "everyone", 1, ch, "marketing", res.path.name, 2, res.checksum, masked, "written", "s1")
        for res, ch, masked in zip(results, ("sms", "tencent_ads", "csv"), (False, False, True))]
    assert rows[0][7] == results[0].path.stat().st_size
    assert [a[0] for a in audits] == ["everyone"] * 3
    details = [json.loads(a[1]) for a in audits]
    assert [d["activation_id"] for d in details] == [r.activation_id for r in results]
    assert details[1]["hash"] == "sha256" and details[0]["sha256"] == results[0].checksum


def test_a_snapshot_audience_exports_its_frozen_members_still_eligible(store, tmp_path):
    library.save(store, "s1", "frozen", EVERYONE, "marketing", kind="snapshot")
    consent.grant(store, "s1", oneid(store, "13788889999"), "marketing", method="written")  # after the snapshot
    consent.withdraw(store, "s1", oneid(store, "13957112233"), "marketing", method="written")
    result = activation.export(store, "s1", "steward", "frozen", "sms", "marketing", tmp_path / "frozen.txt")
    assert result.path.read_bytes() == b"13671234598\n"
    with store.cursor() as cur:
        assert cur.execute("SELECT snapshot_id FROM activations").fetchone()[0] is not None


# ---- destinations and pushes -------------------------------------------------------------------------

class Receiver:
    """A local HTTP server answering POSTs with the given statuses in turn (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b'{"received": true}' if code == 200 else b"busy")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _deliveries(db, activation_id):
    with db.cursor() as cur:
        return cur.execute("SELECT attempt, status_code, ok FROM push_deliveries WHERE activation_id = ? "
                           "ORDER BY attempt", [activation_id]).fetchall()


def test_destinations_are_admin_only_checked_and_audited(store, tmp_path):
    with pytest.raises(PushError, match="https://"):
        push.add_destination(store, "adm", "crm", "webhook", "http://example.com/hook", "webhook_hook")
    with pytest.raises(PermissionDenied, match="destinations.manage"):
        push.add_destination(store, "s1", "crm", "webhook", "https://example.com/hook", "webhook_hook")
    with pytest.raises(ConfigError, match="not in"):
        push.add_destination(store, "adm", "crm", "webhook", "https://example.com/hook", "webhook_missing")
    with pytest.raises(PushError, match="named webhook_"):  # never one of Steward's own keys
        push.add_destination(store, "adm", "crm", "webhook", "https://example.com/hook", "hmac_key")
    with pytest.raises(PushError, match="secret-name"):
        push.add_destination(store, "adm", "crm", "webhook", "https://example.com/hook")
    with pytest.raises(PushError, match="absolute"):
        push.add_destination(store, "adm", "sftp", "outbox", "relative/dir")
    push.add_destination(store, "adm", "crm", "webhook", "https://example.com/hook", "webhook_hook")
    push.add_destination(store, "adm", "sftp", "outbox", str(tmp_path / "outbox"))
    with store.cursor() as cur:
        listed = push.list_destinations(cur)
        audits = cur.execute("SELECT object_id FROM audit_log WHERE action = ? ORDER BY id",
                             [Event.DESTINATION_SAVE.value]).fetchall()
    assert list(listed["name"]) == ["crm", "sftp"] and list(listed["secret_name"].fillna("")) == ["webhook_hook", ""]
    assert SECRET not in listed.to_string() and [a[0] for a in audits] == ["crm", "sftp"]


def test_webhook_push_is_signed_and_logged(store):
    with Receiver() as receiver:
        push.add_destination(store, "adm", "hook", "webhook", receiver.url, "webhook_hook")
        result = push.push(store, "s1", "steward", "everyone", "hook", sleep=lambda s: None)
    assert result.ok and result.attempts == 1 and result.status_code == 200 and result.rows == 2
    [(path, headers, body)] = receiver.requests
    assert path == "/hook" and body == b"13671234598\n13957112233\n"
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Steward-Signature"] == f"sha256={expected}"
    assert headers["X-Steward-Checksum"] == f"sha256={hashlib.sha256(body).hexdigest()}" == f"sha256={result.checksum}"
    assert headers["X-Steward-Audience"] == "everyone" and headers["X-Steward-Activation"] == str(result.activation_id)
    assert _deliveries(store, result.activation_id) == [(1, 200, True)]
    with store.cursor() as cur:
        assert cur.execute("SELECT destination, status FROM activations WHERE activation_id = ?",
                           [result.activation_id]).fetchone() == ("hook", "delivered")
        detail = json.loads(cur.execute("SELECT detail FROM audit_log WHERE action = ?",
                                        [Event.AUDIENCE_PUSH.value]).fetchone()[0])
    assert detail["ok"] and detail["destination"] == "hook" and detail["checksum"] == result.checksum
    assert not result.path.exists() and not list(result.path.parent.iterdir())  # no copy lingers


def test_webhook_push_retries_with_backoff_then_succeeds(store):
    slept: list[float] = []
    with Receiver([500]) as receiver:
        push.add_destination(store, "adm", "hook", "webhook", receiver.url, "webhook_hook")
        result = push.push(store, "s1", "steward", "everyone", "hook", sleep=slept.append)
    assert result.ok and result.attempts == 2 and slept == [push.BACKOFF_SECONDS]
    assert _deliveries(store, result.activation_id) == [(1, 500, False), (2, 200, True)]
    assert len(receiver.requests) == 2 and receiver.requests[0][2] == receiver.requests[1][2]


def test_webhook_push_fails_after_three_attempts_on_record(store):
    slept: list[float] = []
    with Receiver([503, 503, 503, 503]) as receiver:
        push.add_destination(store, "adm", "hook", "webhook", receiver.url, "webhook_hook")
        result = push.push(store, "s1", "steward", "everyone", "hook", sleep=slept.append)
    assert not result.ok and result.attempts == 3 and result.status_code == 503 and len(receiver.requests) == 3
    assert slept == [push.BACKOFF_SECONDS, 2 * push.BACKOFF_SECONDS]
    assert _deliveries(store, result.activation_id) == [(1, 503, False), (2, 503, False), (3, 503, False)]
    with store.cursor() as cur:
        assert cur.execute("SELECT status FROM activations WHERE activation_id = ?",
                           [result.activation_id]).fetchone() == ("failed",)
        assert cur.execute("SELECT response FROM push_deliveries WHERE attempt = 3").fetchone() == ("busy",)


def test_a_refused_push_is_not_retried_and_a_dead_receiver_is(store):
    slept: list[float] = []
    with Receiver([403]) as receiver:
        push.add_destination(store, "adm", "hook", "webhook", receiver.url, "webhook_hook")
        result = push.push(store, "s1", "steward", "everyone", "hook", sleep=slept.append)
    assert not result.ok and result.attempts == 1 and slept == []
    push.add_destination(store, "adm", "hook", "webhook", receiver.url, "webhook_hook")  # the server is closed now
    result = push.push(store, "s1", "steward", "everyone", "hook", sleep=slept.append, timeout=2)
    assert not result.ok and result.attempts == 3
    assert [r[1] for r in _deliveries(store, result.activation_id)] == [None, None, None]


def test_outbox_push_lands_the_file_with_a_manifest_and_a_done_marker(store, tmp_path):
    outbox = tmp_path / "outbox"
    push.add_destination(store, "adm", "sftp", "outbox", str(outbox))
    result = push.push(store, "s1", "steward", "everyone", "sftp", channel="databank", purpose="marketing", hash="md5")
    assert result.ok and result.path.parent == outbox
    assert result.path.read_bytes() == "".join(f"{h}\n" for h in sorted(_md5(m) for m in IN)).encode()
    manifest = json.loads(Path(f"{result.path}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["sha256"] == result.checksum == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert manifest["rows"] == 2 and manifest["audience"] == "everyone" and manifest["channel"] == "databank"
    assert Path(f"{result.path}.done").exists()
    for p in outbox.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert sorted(p.name for p in outbox.iterdir()) == sorted(
        [result.path.name, f"{result.path.name}.manifest.json", f"{result.path.name}.done"])
    assert _deliveries(store, result.activation_id) == [(1, None, True)]


def test_push_needs_the_permission_and_a_known_destination(store):
    with pytest.raises(PermissionDenied):
        push.push(store, "ana", "analyst", "everyone", "nowhere")
    with pytest.raises(PushError, match="no destination"):
        push.push(store, "s1", "steward", "everyone", "nowhere")


def test_the_wechat_csv_needs_no_formula_guard_and_reads_as_csv(store, tmp_path):
    # the identifier files are for systems: values are written as they are, one person per row
    result = export(store, tmp_path, "wechat", app_id=APP)
    rows = list(csv.reader(io.StringIO(result.path.read_text(encoding="utf-8"))))
    assert rows[0] == ["app_id", "open_id"] and len(rows) == 3 and len({r[1] for r in rows[1:]}) == 2


def test_cli_exports_pushes_and_manages_destinations(store, tmp_path, capsys):
    from governance import cli
    base = ["--db", str(store.path)]
    out = tmp_path / "cli" / "vip.txt"
    assert cli.main([*base, "audiences", "export", "everyone", "--channel", "sms", "--purpose", "marketing",
                     "--out", str(out), "--actor", "s1"]) == 0
    assert out.read_bytes() == b"13671234598\n13957112233\n" and "wrote 2 rows" in capsys.readouterr().out
    assert cli.main([*base, "audiences", "export", "everyone", "--channel", "sms", "--purpose", "analytics",
                     "--out", str(tmp_path / "cli" / "x.txt"), "--actor", "s1"]) == 2
    assert "purpose 'marketing'" in capsys.readouterr().err
    assert cli.main([*base, "audiences", "export", "everyone", "--channel", "sms", "--purpose", "marketing",
                     "--out", str(out), "--actor", "s1"]) == 2  # no overwrite without --force
    assert cli.main([*base, "audiences", "export", "everyone", "--channel", "sms", "--purpose", "marketing",
                     "--out", str(tmp_path / "cli" / "y.txt"), "--actor", "ana"]) == 2
    capsys.readouterr()
    outbox = tmp_path / "cli-outbox"
    assert cli.main([*base, "destinations", "add", "box", "--kind", "outbox", "--target", str(outbox),
                     "--actor", "s1"]) == 2  # admins only
    assert cli.main([*base, "destinations", "add", "box", "--kind", "outbox", "--target", str(outbox),
                     "--actor", "adm"]) == 0
    assert cli.main([*base, "destinations", "list", "--json"]) == 0
    capsys.readouterr()
    assert cli.main([*base, "audiences", "push", "everyone", "--destination", "box", "--channel", "douyin_dmp",
                     "--hash", "md5", "--actor", "s1"]) == 0
    assert "delivered: 2 rows of everyone to box (outbox)" in capsys.readouterr().out
    [landed] = [p for p in outbox.iterdir() if p.suffix == ".txt"]
    assert landed.read_bytes() == "".join(f"{h}\n" for h in sorted(_md5(m) for m in IN)).encode()
