"""Steward: the Streamlit entry point. Sign-in, language, and the role-filtered page menu."""
import streamlit as st

from governance.access import auth
from governance.i18n import LANGS
from governance.store.errors import GovernanceError
from governance.ui import uploads
from governance.ui.jobs import panel as jobs_panel
from governance.ui.login import sign_in, sign_out
from governance.ui.session import database, show_error, show_incident, tr

st.set_page_config(page_title="Steward", page_icon="🧭", layout="wide")

# (file, url path, title key, permission, section key)
PAGES = [
    ("pages/home.py", "home", "page.home", "home.view", "app.section.workspace"),
    ("pages/sources.py", "sources", "page.sources", "sources.view", "app.section.workspace"),
    ("pages/upload.py", "upload", "page.upload", "ingest.upload", "app.section.workspace"),
    ("pages/quality.py", "quality", "page.quality", "quality.view", "app.section.workspace"),
    ("pages/rules.py", "rules", "page.rules", "rules.edit", "app.section.workspace"),
    ("pages/review.py", "review", "page.review", "review.view", "app.section.workspace"),
    ("pages/customer360.py", "customer360", "page.customer360", "customer.view", "app.section.workspace"),
    ("pages/export.py", "export", "page.export", "export.run", "app.section.workspace"),
    ("pages/tags.py", "tags", "page.tags", "tags.view", "app.section.workspace"),
    ("pages/audiences.py", "audiences", "page.audiences", "audiences.view", "app.section.workspace"),
    ("pages/consent.py", "consent", "page.consent", "consent.view", "app.section.privacy"),
    ("pages/requests.py", "requests", "page.requests", "dsr.manage", "app.section.privacy"),
    ("pages/retention.py", "retention", "page.retention", "retention.manage", "app.section.privacy"),
    ("pages/ropa.py", "ropa", "page.ropa", "ropa.view", "app.section.privacy"),
    ("pages/users.py", "users", "page.users", "users.manage", "app.section.admin"),
    ("pages/audit.py", "audit", "page.audit", "audit.view", "app.section.admin"),
    ("pages/masking_policies.py", "masking", "page.masking_policies", "masking.manage", "app.section.admin"),
    ("pages/api_keys.py", "api_keys", "page.api_keys", "apikeys.manage", "app.section.admin"),
]

menu = st.sidebar.container()  # the role's page links, drawn once the user is known
st.sidebar.selectbox(tr("app.language"), list(LANGS), format_func=LANGS.get, key="lang")

try:
    db = database()
    user, authenticator = sign_in(db)
except GovernanceError as exc:  # a store another process holds, an unreadable secrets file: one line
    show_error(exc)
    st.stop()
except Exception as exc:
    show_incident(exc)
    st.stop()

if user is None:
    # Register only a sign-in page: no other page is served to an anonymous session.
    st.navigation([st.Page(lambda: None, title=tr("login.form"), url_path="login")],
                  position="hidden").run()
    st.stop()

if not st.session_state.get("_uploads_swept"):  # files staged by abandoned sessions
    uploads.remove_stale()
    st.session_state["_uploads_swept"] = True
st.sidebar.caption(tr("app.signed_in_as", name=user.display_name, role=tr(f"role.{user.role}")))
if st.sidebar.button(tr("app.logout"), key="logout_button"):
    sign_out(db, user, authenticator)
    st.rerun()

sections: dict[str, list] = {}
for path, url, title, permission, section in PAGES:
    if auth.can(user.role, permission):
        sections.setdefault(tr(section), []).append(st.Page(path, title=tr(title), url_path=url, default=url == "home"))
# Streamlit's own sidebar menu stays off (.streamlit/config.toml): on a fresh server it can list the
# pages/ folder to anonymous sessions. We draw the role's menu ourselves.
current = st.navigation(sections, position="hidden")
for section, pages in sections.items():
    menu.caption(section)
    for page in pages:
        menu.page_link(page)
try:
    jobs_panel(db, user)  # running and recent jobs, on every page
    current.run()
except GovernanceError as exc:  # a page let one through: still one line
    show_error(exc)
except Exception as exc:  # whatever was missed: an incident id on screen, the details in the log
    show_incident(exc)
