"""Who may do what: roles per screen and action, sign-in, lock-out, single sign-on, the audit
log and the hardened configuration."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from conftest import ADMIN, EDITOR, PROJECT_ROOT, VIEWER, sign_in_as, texts
from liftoff import cli, ingest
from liftoff.access import audit, auth
from liftoff.config import Settings
from liftoff.db.models import User
from liftoff.demo import builder as demo_builder
from liftoff.evidence import writes as evidence_writes
from liftoff.ingest import pipeline, reader

APP = str(PROJECT_ROOT / "app.py")
ALL_SCREENS = [f"screens/{key}.py" for key in auth.SCREENS]
PASSWORD = "correct horse battery staple"
SSO_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-only-not-a-secret",
        "client_id": "liftoff",
        "client_secret": "test-only",
        "server_metadata_url": "https://idp.example.invalid/.well-known/openid-configuration",
    }
}


def registered(at: AppTest) -> set[str]:
    """The screens this session can reach: switch_page refuses a page not registered."""
    found = set()
    for page in ALL_SCREENS:
        try:
            at.switch_page(page)
        except ValueError:
            continue
        found.add(page)
    return found


def expected(role: str | None) -> set[str]:
    return {
        f"screens/{key}.py"
        for key, (_, _, least) in auth.SCREENS.items()
        if auth.RANK[role] >= auth.RANK[least]
    }


# ----------------------------------------------------------------------------- registration


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_each_role_gets_exactly_its_screens(use_database, demo_url, role):
    use_database(demo_url)
    at = sign_in_as(AppTest.from_file(APP, default_timeout=60), role).run()
    assert not at.exception
    assert registered(at) == expected(role)


def test_anonymous_visitors_see_only_sign_in_when_the_setting_says_none(
    use_database, demo_url, monkeypatch
):
    use_database(demo_url)
    monkeypatch.setenv("LIFTOFF_ANONYMOUS_ROLE", "none")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert registered(at) == set()
    assert at.title[0].value == "Sign in"
    assert "Sign in to see Liftoff's screens." in texts(at)


def test_anonymous_viewers_browse_but_cannot_reach_upload(use_database, demo_url):
    use_database(demo_url)  # LIFTOFF_ANONYMOUS_ROLE=viewer, as `make run` sets it
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert registered(at) == expected("viewer")
    assert "screens/upload.py" not in registered(at)
    assert "Browsing as a visitor (viewer). Sign in to upload or edit." in texts(at)


def test_readme_role_matrix_is_the_one_the_code_enforces():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert auth.matrix() in readme


# ----------------------------------------------------------------------------- viewers cannot write


def test_viewer_sees_no_editing_controls(use_database, demo_url):
    use_database(demo_url)
    at = sign_in_as(AppTest.from_file(APP, default_timeout=60), "viewer").run()
    at.switch_page("screens/iterations.py").run()
    editing = ("Save the decision", "Add criterion", "Save the description", "Save the settings")
    assert not [b for b in at.button if b.label in editing]
    assert (
        "Editors record the decision, change the criteria and describe the iteration here."
        in texts(at)
    )
    at.switch_page("screens/monitoring.py").run()
    assert not [b for b in at.button if b.label in ("Add rule", "Add the suggested rules")]
    at.switch_page("screens/imports.py").run()
    assert not [b for b in at.button if b.label == "Roll back this batch"]
    assert "Editors can roll back a batch." in texts(at)


def test_viewer_cannot_write_by_calling_the_library(demo_engine):
    from conftest import table_checksums

    before = table_checksums(demo_engine)
    data = (PROJECT_ROOT / "tests/data/ingest/traffic.csv").read_bytes()
    options = ingest.Options(initiative="Churn early-warning")
    prepared = pipeline.prepare(demo_engine, data, "traffic.csv", options)
    attempts = [
        lambda: ingest.import_file(demo_engine, VIEWER, data, "traffic.csv", options),
        lambda: ingest.commit(demo_engine, VIEWER, prepared),
        lambda: ingest.rollback(demo_engine, VIEWER, 1),
        lambda: evidence_writes.set_initiative(
            demo_engine, VIEWER, "Churn early-warning", stage="paused"
        ),
        lambda: evidence_writes.record_decision(
            demo_engine,
            VIEWER,
            "Churn early-warning",
            6,
            decision="go",
            rationale="x",
            decided_by="x",
        ),
        lambda: evidence_writes.add_criterion(
            demo_engine, VIEWER, "Churn early-warning", 6, kind="learning", description="x"
        ),
        lambda: evidence_writes.remove_criterion(demo_engine, VIEWER, 1),
        lambda: evidence_writes.add_alert_rule(
            demo_engine,
            VIEWER,
            None,
            metric="churn_auc",
            comparator="<",
            threshold=0.5,
            severity="low",
            stages=["pilot"],
        ),
        lambda: evidence_writes.remove_alert_rule(demo_engine, VIEWER, 1),
        lambda: demo_builder.load_demo(demo_engine, reset=True, actor=VIEWER),
        lambda: auth.add_user(demo_engine, VIEWER, "x@example.com", "admin", PASSWORD),
        lambda: auth.add_user(demo_engine, EDITOR, "x@example.com", "admin", PASSWORD),
        lambda: auth.set_role(demo_engine, EDITOR, "pm@example.com", "admin"),
    ]
    for attempt in attempts:
        with pytest.raises(auth.PermissionDenied, match="needs the (editor|admin) role"):
            attempt()
    assert table_checksums(demo_engine) == before
    # An anonymous visitor (no role at all) is refused the same way.
    with pytest.raises(auth.PermissionDenied, match="Visitors who have not signed in"):
        ingest.import_file(
            demo_engine, auth.anonymous(Settings.from_env({})), data, "t.csv", options
        )


def test_a_role_taken_away_counts_on_the_next_rerun(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = sign_in_as(AppTest.from_file(APP, default_timeout=60), "editor").run()
    assert "screens/upload.py" in registered(at)
    auth.set_role(demo_engine, ADMIN, "editor@example.com", "viewer")
    at.run()
    assert "screens/upload.py" not in registered(at)
    auth.remove_user(demo_engine, ADMIN, "editor@example.com")
    at.run()
    assert not at.exception
    assert "Browsing as a visitor (viewer)" in texts(at)


# ----------------------------------------------------------------------------- passwords and sign-in


def test_password_hashes_are_salted_scrypt_and_verify(engine):
    auth.add_user(engine, ADMIN, "a@example.com", "viewer", PASSWORD)
    auth.add_user(engine, ADMIN, "b@example.com", "viewer", PASSWORD)
    with engine.connect() as conn:
        hashes = conn.execute(select(User.password_hash).order_by(User.email)).scalars().all()
    assert hashes[0] != hashes[1]
    assert all(h.startswith("scrypt$32768$8$1$") and PASSWORD not in h for h in hashes)
    assert auth.verify_password(PASSWORD, hashes[0])
    assert not auth.verify_password(PASSWORD + "!", hashes[0])
    assert not auth.verify_password(PASSWORD, None)


def test_short_passwords_and_bad_emails_are_refused_plainly(engine):
    with pytest.raises(auth.AccountError, match="at least 12 characters"):
        auth.add_user(engine, ADMIN, "a@example.com", "viewer", "short")
    with pytest.raises(auth.AccountError, match="is not an email address"):
        auth.add_user(engine, ADMIN, "not-an-email", "viewer", PASSWORD)
    with pytest.raises(auth.AccountError, match="Role 'boss' is not one of"):
        auth.add_user(engine, ADMIN, "a@example.com", "boss", PASSWORD)
    assert auth.list_users(engine) == []


# Regression (issue 16): "aaaaaaaaaaaa", "123456789012", twelve spaces and a 1 MB password were
# all accepted; strength is zxcvbn's, and the reason is said in plain words.
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess.'),
        ("123456789012", "This is similar to a commonly used password."),
        (" " * 12, 'Repeats like "aaa" are easy to guess.'),
        ("password1234", "This is a very common password."),
        ("x" * 1_000_000, "Choose a password of at most 1,024 characters."),
    ],
)
def test_guessable_passwords_are_refused_with_the_reason(engine, password, reason):
    with pytest.raises(auth.AccountError) as refused:
        auth.add_user(engine, ADMIN, "a@example.com", "viewer", password)
    assert reason in str(refused.value)
    assert auth.list_users(engine) == []


def test_wrong_passwords_throttle_this_client_not_the_account(engine):
    settings = Settings.from_env({"LIFTOFF_MAX_SIGN_IN_FAILURES": "3"})
    auth.add_user(engine, ADMIN, "pm@example.com", "editor", PASSWORD)
    now = datetime(2026, 11, 25, 10, 0)
    for _ in range(3):
        with pytest.raises(auth.SignInFailed, match="^Wrong email or password.$"):
            auth.sign_in(
                engine, settings, "pm@example.com", "wrong password!!", "10.0.0.9", now=now
            )
    # This client is throttled now: even the right password is refused until the lock ends.
    with pytest.raises(auth.SignInThrottled, match="Try again in 15 minutes") as throttled:
        auth.sign_in(engine, settings, "pm@example.com", PASSWORD, "10.0.0.9", now=now)
    assert throttled.value.retry_after == 15 * 60 + 1
    # The owner, from their own address, is not locked out by a stranger's three tries.
    actor = auth.sign_in(engine, settings, "PM@example.com ", PASSWORD, "10.0.0.1", now=now)
    assert (actor.email, actor.role, actor.via) == ("pm@example.com", "editor", "password")
    # The stranger's lock ends on its own.
    later = now + timedelta(minutes=16)
    auth.sign_in(engine, settings, "pm@example.com", PASSWORD, "10.0.0.9", now=later)
    # Unknown accounts get the same message as a wrong password.
    with pytest.raises(auth.SignInFailed, match="^Wrong email or password.$"):
        auth.sign_in(engine, settings, "nobody@example.com", PASSWORD, "10.0.0.1", now=now)
    actions = [
        e["action"]
        for e in audit.entries(engine, audit.Filter(actions=("sign_in", "sign_in.failed")))
    ]
    assert actions == ["sign_in.failed", "sign_in", "sign_in", *["sign_in.failed"] * 4]


def test_one_address_guessing_at_many_accounts_is_throttled(engine):
    settings = Settings.from_env({"LIFTOFF_MAX_SIGN_IN_FAILURES": "2"})
    now = datetime(2026, 11, 25, 10, 0)
    for n in range(2 * auth.ADDRESS_FACTOR):
        with pytest.raises(auth.SignInFailed, match="^Wrong email or password.$"):
            auth.sign_in(engine, settings, f"user{n}@example.com", "x", "10.0.3.1", now=now)
    with pytest.raises(auth.SignInThrottled):
        auth.sign_in(engine, settings, "another@example.com", "x", "10.0.3.1", now=now)
    # Another address is not affected.
    with pytest.raises(auth.SignInFailed, match="^Wrong email or password.$"):
        auth.sign_in(engine, settings, "another@example.com", "x", "10.0.3.2", now=now)


def test_an_account_guessed_at_from_many_addresses_locks_and_answers_like_a_wrong_password(
    engine,
):
    settings = Settings.from_env({"LIFTOFF_MAX_SIGN_IN_FAILURES": "2"})
    auth.add_user(engine, ADMIN, "pm@example.com", "editor", PASSWORD)
    now = datetime(2026, 11, 25, 10, 0)
    limit = 2 * auth.ACCOUNT_FACTOR
    for n in range(limit):
        with pytest.raises(auth.SignInFailed, match="^Wrong email or password.$"):
            auth.sign_in(engine, settings, "pm@example.com", "wrong!", f"10.0.1.{n}", now=now)
    # Locked: the right password, from a fresh address, gets exactly the wrong-password answer.
    with pytest.raises(auth.SignInFailed) as refused:
        auth.sign_in(engine, settings, "pm@example.com", PASSWORD, "10.0.2.1", now=now)
    assert type(refused.value) is auth.SignInFailed
    assert str(refused.value) == "Wrong email or password."
    assert any(u["locked_until"] for u in auth.list_users(engine))
    auth.unlock(engine, ADMIN, "pm@example.com")
    auth.sign_in(engine, settings, "pm@example.com", PASSWORD, "10.0.2.1", now=now)


# Regression (issue 16): a password typed as the email went into the audit log, a newline
# forged a line of `liftoff audit`, a 5 MB "email" grew the database; on PostgreSQL a NUL byte
# or an email over 100 characters crashed the page.
@pytest.mark.parametrize(
    "typed",
    [
        "correct horse battery staple",
        "pm@example.com\nsign_in admin@example.com signed in",
        "a" * 5_000_000 + "@example.com",
        "pm\x00@example.com",
        "p" * 120 + "@example.com",
        "",
    ],
    ids=["password", "newline", "5MB", "NUL", "long", "empty"],
)
def test_the_email_field_is_checked_before_anything_is_stored(engine, typed):
    settings = Settings.from_env({})
    before = audit.count(engine)
    with pytest.raises(auth.BadSignInInput) as refused:
        auth.sign_in(engine, settings, typed, PASSWORD, "10.0.0.1")
    assert typed[:20] not in str(refused.value) or not typed
    assert audit.count(engine) == before


def test_a_long_but_real_email_address_is_a_wrong_email_not_a_crash(engine):
    # 64 characters before the @ and 125 in all: over the audit log's 100-character target.
    email = "p" * 64 + "@" + "d" * 56 + ".org"
    with pytest.raises(auth.SignInFailed, match="^Wrong email or password.$"):
        auth.sign_in(engine, Settings.from_env({}), email, PASSWORD, "10.0.0.1")
    assert audit.entries(engine)[0]["target_id"] == email[:100]


def test_changing_ones_password_asks_for_the_current_one(engine):
    auth.add_user(engine, ADMIN, "pm@example.com", "editor", PASSWORD)
    me = auth.Actor(email="pm@example.com", role="editor", via="password")
    with pytest.raises(auth.AccountError, match="The current password is not right"):
        auth.change_own_password(engine, me, "not it at all", "another long phrase to use")
    auth.change_own_password(engine, me, PASSWORD, "another long phrase to use")
    settings = Settings.from_env({})
    auth.sign_in(engine, settings, "pm@example.com", "another long phrase to use", "10.0.0.1")


def test_visitors_are_sent_to_the_sign_in_page_and_sign_out_ends_the_session(
    use_database, demo_url, demo_engine, monkeypatch
):
    use_database(demo_url)
    monkeypatch.setenv("LIFTOFF_ANONYMOUS_ROLE", "none")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert registered(at) == set()
    # The way to the sign-in form, in this tab (a form, where a link button opens a new tab).
    # It names no `next`: the server sends the person back to the page before Account.
    forms = [h.proto.body for h in at.get("html") if "<form" in h.proto.body]
    assert len(forms) == 1 and 'action="/auth/sign-in"' in forms[0]
    assert 'name="next" value=""' in forms[0]
    at = sign_in_as(AppTest.from_file(APP, default_timeout=60), "editor").run()
    assert registered(at) == expected("editor")
    at.switch_page("screens/account.py").run()
    next(b for b in at.button if b.label == "Sign out").click().run()
    assert registered(at) == set()
    # Signing out on purpose is confirmed, not reported as a lost sign-in.
    assert "You are signed out." in texts(at)
    # The cookie the browser still holds stands for nobody now, and says nothing alarming.
    at.run()
    assert registered(at) == set()
    assert "Your sign-in ended" not in texts(at)


def test_sign_out_everywhere_ends_every_browser_of_that_person(use_database, demo_url):
    use_database(demo_url)
    first = sign_in_as(AppTest.from_file(APP, default_timeout=60), "editor").run()
    second = sign_in_as(AppTest.from_file(APP, default_timeout=60), "editor").run()
    assert registered(second) == expected("editor")
    second.switch_page("screens/account.py").run()
    next(b for b in second.button if b.label == "Sign out everywhere").click().run()
    first.run()
    assert "screens/upload.py" not in registered(first)
    assert "screens/upload.py" not in registered(second)


def test_a_session_ends_after_its_lifetime(use_database, demo_url, demo_engine, monkeypatch):
    from liftoff.access import sessions

    use_database(demo_url)
    auth.add_user(demo_engine, ADMIN, "pm@example.com", "editor")
    long_ago = datetime.now() - timedelta(hours=8, minutes=1)
    cookie = sessions.create(demo_engine, auth.user_id(demo_engine, "pm@example.com"), 8, long_ago)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["liftoff_test_cookies"] = {sessions.COOKIE: cookie}
    at.run()
    assert "screens/upload.py" not in registered(at)
    at.switch_page("screens/account.py").run()
    assert "Your sign-in ended after 8 hours. Sign in again." in texts(at)


def test_a_bad_setting_is_named(use_database, demo_url, monkeypatch):
    use_database(demo_url)
    monkeypatch.setenv("LIFTOFF_ANONYMOUS_ROLE", "everyone")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "LIFTOFF_ANONYMOUS_ROLE is 'everyone'; use one of: none, viewer." in at.error[0].value


# ----------------------------------------------------------------------------- single sign-on


@pytest.mark.parametrize(
    ("email", "default_role", "role"),
    [
        ("viewer@example.com", "none", "viewer"),
        ("editor@example.com", "none", "editor"),
        ("admin@example.com", "none", "admin"),
        ("stranger@example.com", "none", None),
        ("stranger@example.com", "viewer", "viewer"),
    ],
)
def test_single_sign_on_users_get_their_role_from_the_users_table(
    use_database, demo_url, demo_engine, monkeypatch, email, default_role, role
):
    use_database(demo_url)
    monkeypatch.setenv("LIFTOFF_ANONYMOUS_ROLE", "none")
    monkeypatch.setenv("LIFTOFF_OIDC_DEFAULT_ROLE", default_role)
    for r in ("viewer", "editor", "admin"):
        auth.add_user(demo_engine, ADMIN, f"{r}@example.com", r)  # no password: SSO only
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets.update(SSO_SECRETS)
    at.user = {"is_logged_in": True, "email": email, "name": "Someone"}
    at.run()
    assert not at.exception
    assert registered(at) == (expected(role) if role else set())
    if role is None:
        assert "Liftoff gives this email no role" in texts(at)


def test_single_sign_on_shows_the_provider_button_when_signed_out(
    use_database, demo_url, monkeypatch
):
    use_database(demo_url)
    monkeypatch.setenv("LIFTOFF_ANONYMOUS_ROLE", "none")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets.update(SSO_SECRETS)
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in with single sign-on"]
    assert not at.text_input  # no password form when single sign-on is configured


# ----------------------------------------------------------------------------- users and audit


def test_users_command_add_list_set_role_remove(use_database, db_url, capsys, monkeypatch):
    import io

    use_database(db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        cli.main(["users", "add", "Boss@Example.com", "--role", "admin", "--password-stdin"]) == 0
    )
    assert cli.main(["users", "add", "pm@example.com", "--role", "editor", "--sso-only"]) == 0
    assert cli.main(["users", "set-role", "pm@example.com", "viewer"]) == 0
    assert cli.main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "boss@example.com: admin\n" in out
    assert "pm@example.com: viewer, single sign-on only" in out
    assert cli.main(["users", "remove", "boss@example.com"]) == 1
    assert "is the last admin" in capsys.readouterr().err
    assert cli.main(["users", "remove", "pm@example.com"]) == 0
    assert cli.main(["audit", "--json"]) == 0
    import json

    entries = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [e["action"] for e in entries] == ["user.remove", "user.update", "user.add", "user.add"]
    assert all(e["actor"].endswith("(command line)") and e["role"] == "admin" for e in entries)
    assert '"password_hash"' not in json.dumps(entries)


def test_every_write_is_in_the_audit_log_with_before_and_after(demo_engine):
    churn = "Churn early-warning"
    start = audit.count(demo_engine)
    evidence_writes.set_initiative(demo_engine, EDITOR, churn, stage="production")
    evidence_writes.record_decision(
        demo_engine, EDITOR, churn, 6, decision="go", rationale="AUC clears", decided_by="Board"
    )
    cid = evidence_writes.add_criterion(
        demo_engine, EDITOR, churn, 6, kind="learning", description="Ask"
    )
    evidence_writes.update_criterion(
        demo_engine, EDITOR, cid, kind="learning", description="Ask users"
    )
    evidence_writes.remove_criterion(demo_engine, EDITOR, cid)
    rid = evidence_writes.add_alert_rule(
        demo_engine,
        EDITOR,
        churn,
        metric="churn_auc",
        comparator="<",
        threshold=0.7,
        severity="high",
        stages=["pilot"],
    )
    evidence_writes.update_alert_rule(
        demo_engine,
        EDITOR,
        rid,
        metric="churn_auc",
        comparator="<",
        threshold=0.75,
        severity="high",
        stages=["pilot"],
    )
    evidence_writes.remove_alert_rule(demo_engine, EDITOR, rid)
    data = (PROJECT_ROOT / "tests/data/ingest/traffic.csv").read_bytes()
    _, batch = ingest.import_file(
        demo_engine, EDITOR, data, "traffic.csv", ingest.Options(initiative=churn)
    )
    ingest.rollback(demo_engine, ADMIN, batch)
    rows = audit.entries(demo_engine, limit=audit.count(demo_engine) - start)
    assert [r["action"] for r in reversed(rows)] == [
        "initiative.update",
        "decision",
        "criterion.add",
        "criterion.update",
        "criterion.remove",
        "alert_rule.add",
        "alert_rule.update",
        "alert_rule.remove",
        "import",
        "rollback",
    ]
    by_action = {r["action"]: r for r in rows}
    assert by_action["decision"]["actor"] == "pm@example.com"
    assert '"decision": "pending"' in by_action["decision"]["before"]
    assert '"decision": "go"' in by_action["decision"]["after"]
    assert '"threshold": 0.7' in by_action["alert_rule.update"]["before"]
    assert '"threshold": 0.75' in by_action["alert_rule.update"]["after"]
    assert by_action["rollback"]["actor"] == "admin@example.com"
    assert (
        by_action["import"]["summary"]
        == f"Imported traffic.csv: 3 rows of traffic as batch #{batch}"
    )


def test_admin_screens_add_a_user_and_filter_the_log(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = sign_in_as(AppTest.from_file(APP, default_timeout=60), "admin").run()
    at.switch_page("screens/users.py").run()
    form = {t.label: t for t in at.text_input}
    form["Email"].input("new.editor@example.com")
    form["Password"].input(PASSWORD)
    next(s for s in at.selectbox if s.label == "Role").select("editor")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert not at.exception
    assert "Added new.editor@example.com as editor." in texts(at)
    assert auth.role_of(demo_engine, "new.editor@example.com") == "editor"
    at.switch_page("screens/audit.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table.iloc[0]["What"] == "Added new.editor@example.com as editor"
    assert table.iloc[0]["Who"] == "admin@example.com"
    next(t for t in at.text_input if t.label == "Who (contains)").input("nobody-at-all").run()
    assert "Nothing in the audit log matches these filters." in texts(at)


# ----------------------------------------------------------------------------- hardening


def test_streamlit_config_is_hardened():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True
    assert config["server"]["maxUploadSize"] == reader.MAX_FILE_MB
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def test_secrets_are_never_committed():
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert ".streamlit/secrets.toml" in ignored
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert not [f for f in tracked if f.endswith("secrets.toml")]


def test_no_user_text_reaches_html_rendering():
    sources = (
        list((PROJECT_ROOT / "screens").glob("*.py"))
        + list((PROJECT_ROOT / "lib" / "liftoff").rglob("*.py"))
        + [PROJECT_ROOT / "app.py"]
    )
    widgets = PROJECT_ROOT / "lib" / "liftoff" / "ui" / "widgets.py"
    for path in sources:
        text = path.read_text()
        assert "unsafe_allow_html" not in text, path
        if path == widgets:
            # The one st.html: ui.widgets._packaged, which takes only files of the package.
            assert text.count("st.html(") == 1 and "    st.html(path)\n" in text, path
        else:
            assert "st.html(" not in text, path


def test_the_stylesheet_helper_takes_only_packaged_css(tmp_path):
    from liftoff.ui import widgets

    outside = tmp_path / "evil.css"
    outside.write_text("body { display: none }")
    for path in (outside, PROJECT_ROOT / "README.md", PROJECT_ROOT / "lib" / "liftoff" / "cli.py"):
        with pytest.raises(ValueError):
            widgets.stylesheet(path)


def test_audit_search_takes_percent_and_underscore_literally(engine):
    from liftoff import db

    with db.write(engine) as conn:
        for summary in ("Raised the floor to 50%", "Imported 500 rows", "Set min_headroom"):
            audit.record(conn, ADMIN, "test", summary)
        audit.record(conn, EDITOR, "test", "Changed by an editor")

    def found(**kwargs) -> list[str]:
        return [e["summary"] for e in audit.entries(engine, audit.Filter(**kwargs))]

    assert found(text="50%") == ["Raised the floor to 50%"]
    assert found(text="n_h") == ["Set min_headroom"]
    assert found(text="%") == ["Raised the floor to 50%"]
    assert found(text="IMPORTED") == ["Imported 500 rows"]
    assert found(actor="PM@EXAMPLE") == ["Changed by an editor"]
    assert found(actor="_") == []


def test_every_action_the_code_records_is_one_the_audit_screen_can_filter_by():
    """The audit screen and `liftoff audit --action` offer audit.ACTIONS; an action recorded
    under any other name could never be found by its filter."""
    recorded = set()
    for path in (PROJECT_ROOT / "lib" / "liftoff").rglob("*.py"):
        if path.name == "cli.py":  # argparse's action="append" is another kind of action
            continue
        source = path.read_text()
        recorded |= set(re.findall(r'\baction="([a-z_.]+)"', source))
        recorded |= set(re.findall(r'audit\.record\(\s*conn,\s*\w+,\s*"([a-z_.]+)"', source))
    assert recorded, "no recorded actions found: the pattern is stale"
    assert recorded <= set(audit.ACTIONS), recorded - set(audit.ACTIONS)
