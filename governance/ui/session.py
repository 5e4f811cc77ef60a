"""Per-process resources and per-session helpers for the pages."""
from __future__ import annotations

import os

import streamlit as st

from governance import bootstrap
from governance.i18n import DEFAULT_LANG, LANGS, TEXTS, t
from governance.store import config
from governance.store.config import Settings, resolve_db_path
from governance.store.errors import StoreBusyError, log_incident
from governance.store.storage import Database
from governance.ui.error_texts import translate


def database() -> Database:
    """The store for this process (path from STEWARD_DB or the default), migrated, with an admin; the
    same Database the read API of this server uses (bootstrap.shared_database)."""
    return bootstrap.shared_database(resolve_db_path(os.environ.get("STEWARD_DB")))


@st.cache_resource(show_spinner=False)
def _secrets(path: str) -> dict[str, str]:
    return bootstrap.ensure_secrets()


def secrets() -> dict[str, str]:
    return _secrets(str(config.secrets_path()))


def settings() -> Settings:
    return Settings.from_env()


def lang() -> str:
    value = st.session_state.get("lang", DEFAULT_LANG)
    return value if value in LANGS else DEFAULT_LANG


def tr(key: str, **values: object) -> str:
    return t(key, lang(), **values)


def busy_message(exc: StoreBusyError) -> str:
    """Who holds the store and since when, in the page's language."""
    holder = exc.holder
    if holder is None:
        return tr("common.busy_unknown")
    who = tr("busy.app") if holder.activity == "app" else tr("busy.task", task=task_label(holder.activity))
    return tr("common.busy", who=who, started=f"{holder.started:%H:%M}")


def task_label(activity: str) -> str:
    """A command-line command (the store holder's activity) in the page's language."""
    key = f"busy.task.{activity}"
    return tr(key if key in TEXTS else "busy.task.other")


def show_error(exc: Exception) -> None:
    if isinstance(exc, StoreBusyError):
        st.warning(busy_message(exc))
    else:
        st.error(tr("common.error", message=translate(str(exc), lang())))


def show_incident(exc: Exception) -> None:
    """An unexpected failure: one line naming an incident id; its traceback (which may hold personal
    data) goes to the incident log beside the store, never to the browser."""
    incident, _ = log_incident(exc, resolve_db_path(os.environ.get("STEWARD_DB")).parent)
    st.error(tr("common.incident", incident=incident))
