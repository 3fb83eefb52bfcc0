"""The API tokens section of Admin › Users and settings, through AppTest, on both backends."""

from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT, sign_in_as, texts
from liftoff.access import audit, auth, tokens

APP = str(PROJECT_ROOT / "app.py")


def users_screen() -> AppTest:
    at = sign_in_as(AppTest.from_file(APP, default_timeout=60), "admin").run()
    return at.switch_page("screens/users.py").run()


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = users_screen()
    assert not at.exception
    assert "No API tokens yet. Create one below" in texts(at)
    next(t for t in at.text_input if t.label == "Name").input("ci-loadtest")
    next(s for s in at.selectbox if s.label == "May write to").select("Churn early-warning")
    next(b for b in at.button if b.label == "Create token").click().run()
    assert not at.exception
    assert "Created the token 'ci-loadtest'. Copy it now: it is not shown again." in texts(at)
    secret = at.code[0].value
    assert tokens.authenticate(demo_engine, f"Bearer {secret}").initiative == "Churn early-warning"
    table = at.dataframe[-2].value  # the tokens, above the settings
    assert table.iloc[0][["Name", "Role", "Writes to", "State"]].tolist() == [
        "ci-loadtest",
        "editor",
        "Churn early-warning",
        "Active",
    ]
    at.run()  # the next view of the page no longer shows the token
    assert not at.code and secret not in texts(at)

    next(c for c in at.checkbox if c.label.startswith("Yes, revoke")).check().run()
    next(b for b in at.button if b.label == "Revoke token").click().run()
    assert not at.exception
    assert "Revoked the token 'ci-loadtest'." in texts(at)
    assert tokens.list_tokens(demo_engine)[0]["state"] == "revoked"
    actions = [e["action"] for e in audit.entries(demo_engine, limit=2)]
    assert actions == ["token.revoke", "token.create"]


def test_a_token_name_taken_says_so(use_database, demo_url, demo_engine):
    use_database(demo_url)
    tokens.create(demo_engine, auth.SYSTEM, "ci", "viewer")
    at = users_screen()
    next(t for t in at.text_input if t.label == "Name").input("ci")
    next(b for b in at.button if b.label == "Create token").click().run()
    assert not at.exception
    assert "A token named 'ci' exists already" in texts(at)
