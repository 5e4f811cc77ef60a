"""Users, roles, lockout, sessions and the append-only audit log."""
from __future__ import annotations

from datetime import timedelta

import pytest

from governance.access import audit, auth
from governance.access.events import Event
from governance.store.errors import AuthError
from governance.store.util import utcnow


@pytest.fixture
def alice(db):
    auth.create_user(db, "root", "alice", "alice-pass-123", "steward", "Alice")
    return "alice"


def test_passwords_are_bcrypt_hashes(db, alice):
    with db.cursor() as cur:
        stored = cur.execute("SELECT password_hash FROM users WHERE username = 'alice'").fetchone()[0]
    assert stored.startswith("$2b$12$") and "alice-pass-123" not in stored
    assert auth.check_password("alice-pass-123", stored)


@pytest.mark.parametrize("role,allowed", [
    ("admin", {"home.view", "sources.view", "ingest.upload", "mapping.edit", "pii.unmasked", "users.manage", "audit.view",
               "quality.view", "quality.run", "rules.edit", "review.view", "review.decide", "masking.manage",
               "ropa.view", "dsr.manage", "retention.manage", "export.run", "consent.view", "consent.edit",
               "customer.view", "golden.edit", "tags.view", "tags.edit", "tags.approve", "tags.categories",
               "tags.source_map", "audiences.view", "audiences.edit", "audiences.export", "audiences.push", "destinations.manage",
               "apikeys.manage"}),
    ("steward", {"home.view", "sources.view", "ingest.upload", "mapping.edit", "pii.unmasked", "quality.view",
                 "quality.run", "rules.edit", "review.view", "review.decide", "ropa.view", "dsr.manage",
                 "retention.manage", "export.run", "consent.view", "consent.edit", "customer.view", "golden.edit",
                 "tags.view", "tags.edit", "tags.approve", "tags.source_map", "audiences.view", "audiences.edit",
                 "audiences.export", "audiences.push"}),
    ("analyst", {"home.view", "sources.view", "quality.view", "review.view", "consent.view", "customer.view",
                 "tags.view", "audiences.view"}),
    (None, set()),
])
def test_permission_matrix(role, allowed):
    assert {p for p in auth.PERMISSIONS if auth.can(role, p)} == allowed
    assert not auth.can(role, "no.such.permission")


def test_user_validation(db, alice):
    with pytest.raises(AuthError, match="already exists"):
        auth.create_user(db, "root", "Alice", "another-pass-1", "steward")
    with pytest.raises(AuthError, match="at least 10"):
        auth.create_user(db, "root", "bob", "short", "steward")
    with pytest.raises(AuthError, match="Unknown role"):
        auth.create_user(db, "root", "bob", "long-enough-pw", "root")
    with pytest.raises(AuthError, match="username"):
        auth.create_user(db, "root", "<b>x</b>", "long-enough-pw", "analyst")
    with pytest.raises(AuthError, match="at most 72 bytes"):
        auth.create_user(db, "root", "bob", "密" * 30, "analyst")


def test_login_success_and_failure_are_audited(db, alice):
    assert auth.authenticate(db, " Alice ", "alice-pass-123").ok
    bad = auth.authenticate(db, "alice", "nope-nope-nope")
    unknown = auth.authenticate(db, "mallory", "whatever-123")
    assert (bad.reason, unknown.reason) == ("bad_password", "unknown_user")
    with db.cursor() as cur:
        rows = cur.execute("SELECT actor, action, detail FROM audit_log WHERE action LIKE 'login%' ORDER BY id").fetchall()
    assert rows == [("alice", "login.success", None), ("alice", "login.failure", '{"reason": "bad_password"}'),
                    ("mallory", "login.failure", '{"reason": "unknown_user"}')]


def test_five_failures_lock_for_fifteen_minutes_and_persist(db, tmp_path, alice):
    for _ in range(4):
        assert auth.authenticate(db, "alice", "wrong-password").reason == "bad_password"
    fifth = auth.authenticate(db, "alice", "wrong-password")
    assert fifth.reason == "locked"
    assert timedelta(minutes=14) < fifth.locked_until - utcnow() <= timedelta(minutes=15)
    # the right password does not help while locked, even after a restart
    path = db.path
    db.close()
    from governance.store.storage import open_database
    reopened = open_database(path)
    assert auth.authenticate(reopened, "alice", "alice-pass-123").reason == "locked"
    with reopened.transaction() as cur:  # the lock runs out
        cur.execute("UPDATE users SET locked_until = ? WHERE username = 'alice'", [utcnow() - timedelta(seconds=1)])
    assert auth.authenticate(reopened, "alice", "alice-pass-123").ok
    reopened.close()


def test_counter_survives_between_attempts_and_resets_on_success(db, alice):
    auth.authenticate(db, "alice", "wrong-password")
    auth.authenticate(db, "alice", "wrong-password")
    with db.cursor() as cur:
        assert auth.get_user(cur, "alice").failed_attempts == 2
    auth.authenticate(db, "alice", "alice-pass-123")
    with db.cursor() as cur:
        assert auth.get_user(cur, "alice").failed_attempts == 0


def test_admin_unlock(db, alice):
    for _ in range(5):
        auth.authenticate(db, "alice", "wrong-password")
    auth.unlock(db, "root", "alice")
    assert auth.authenticate(db, "alice", "alice-pass-123").ok


def test_sessions_revoked_by_logout_disable_and_password_reset(db, alice):
    exp = utcnow() + timedelta(hours=1)
    ids = [f"session-{i}" for i in range(3)]
    for sid in ids:
        auth.open_session(db, "alice", sid, exp)
    with db.cursor() as cur:
        assert all(auth.session_user(cur, sid).username == "alice" for sid in ids)
    auth.close_session(db, ids[0], "alice")
    with db.cursor() as cur:
        assert auth.session_user(cur, ids[0]) is None
        assert auth.session_user(cur, ids[1]) is not None  # other devices stay signed in
    auth.set_password(db, "root", "alice", "new-password-1")
    with db.cursor() as cur:
        assert auth.session_user(cur, ids[1]) is None
    sid = "session-after-reset"
    auth.open_session(db, "alice", sid, exp)
    auth.set_disabled(db, "root", "alice", True)
    with db.cursor() as cur:
        assert auth.session_user(cur, sid) is None
    assert auth.authenticate(db, "alice", "new-password-1").reason == "disabled"


def test_expired_session_is_refused(db, alice):
    sid = "session-expired"
    auth.open_session(db, "alice", sid, utcnow() - timedelta(seconds=1))
    with db.cursor() as cur:
        assert auth.session_user(cur, sid) is None


def test_last_admin_is_protected(db):
    auth.create_user(db, "system", "admin", "admin-pass-123", "admin")
    with pytest.raises(AuthError, match="last active administrator"):
        auth.set_role(db, "admin", "admin", "steward")
    with pytest.raises(AuthError, match="your own account"):
        auth.set_disabled(db, "admin", "admin", True)


def test_role_change_and_user_events_are_audited(db, alice):
    auth.set_role(db, "root", "alice", "analyst")
    auth.set_disabled(db, "root", "alice", True)
    auth.set_disabled(db, "root", "alice", False)
    with db.cursor() as cur:
        actions = [r[0] for r in cur.execute("SELECT action FROM audit_log ORDER BY id").fetchall()]
        assert auth.get_user(cur, "alice").role == "analyst"
    assert actions == ["user.create", "user.role_change", "user.disable", "user.enable"]


def test_audit_chain_detects_tampering(db, alice):
    auth.authenticate(db, "alice", "alice-pass-123")
    with db.cursor() as cur:
        assert audit.verify_chain(cur).ok
    with db.transaction() as cur:  # an edit behind the app's back
        cur.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = 1")
    with db.cursor() as cur:
        check = audit.verify_chain(cur)
    assert not check.ok and check.first_bad_id == 1


def test_audit_deletion_is_detected(db, alice):
    for _ in range(3):
        auth.authenticate(db, "alice", "alice-pass-123")
    with db.transaction() as cur:
        cur.execute("DELETE FROM audit_log WHERE id = 2")
    with db.cursor() as cur:
        assert audit.verify_chain(cur).first_bad_id == 3


def test_audit_query_filters_pages_and_csv(db, alice):
    for _ in range(3):
        auth.authenticate(db, "alice", "wrong-password")
    with db.cursor() as cur:
        page, total = audit.query(cur, audit.AuditFilter(action=Event.LOGIN_FAILURE), limit=2)
        csv = audit.export_csv(cur, audit.AuditFilter(actor="alice")).decode("utf-8-sig")
    assert total == 3 and len(page) == 2 and list(page["id"]) == [4, 3]
    assert csv.count("login.failure") == 3


def test_audit_csv_neutralizes_formulas(db):
    with db.transaction() as cur:
        audit.record(cur, "=HYPERLINK(\"x\")", Event.INGEST_BATCH, "batch", "+1")
    with db.cursor() as cur:
        text = audit.export_csv(cur).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",'+1," in text


def test_an_unknown_user_costs_one_password_check_like_a_known_one(db, monkeypatch):
    checked = []
    real = auth.check_password
    monkeypatch.setattr(auth, "check_password", lambda p, h: checked.append(h) or real(p, h))
    assert auth.authenticate(db, "nobody-here", "some-password").reason == "unknown_user"
    assert len(checked) == 1 and checked[0].startswith("$2")  # a real bcrypt check, on a hash no password fits
