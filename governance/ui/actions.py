"""Running library steps from a page: one error display, spinners and progress bars, confirmed
destructive actions, and a success message that outlives an `st.rerun()`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from governance.store.errors import GovernanceError
from governance.ui.session import show_error

T = TypeVar("T")
_FLASH = "_steward_flash"


def run_step(fn: Callable[..., T], *args: object, success: str | Callable[[T], str] | None = None,
             spinner: str | None = None, on_error: Callable[[], object] | None = None, rerun: bool = False,
             flash: bool = False, **kwargs: object) -> T | None:
    """Call `fn(*args, **kwargs)`; a GovernanceError is shown once (`show_error`) and gives None.

    success: the message, or result -> message, shown with st.success when `fn` returns.
    spinner: run `fn` under st.spinner with this text.
    on_error: called before the error is shown (e.g. `bar.empty` to clear a progress bar).
    rerun: start the page over once `fn` has returned. With `flash`, the success message is kept
        for `show_flash()` in the next run instead of being dropped with this one.

    Example: `run_step(dsr.verify, ctx.db, actor, request_id, note, rerun=True)`.
    """
    try:
        if spinner:
            with st.spinner(spinner):
                result = fn(*args, **kwargs)
        else:
            result = fn(*args, **kwargs)
    except GovernanceError as exc:
        if on_error is not None:
            on_error()
        show_error(exc)
        return None
    message = success(result) if callable(success) else success
    if message and rerun and flash:
        st.session_state[_FLASH] = message
    elif message:
        st.success(message)
    if rerun:
        st.rerun()
    return result


_FORM_DONE = "_steward_form_done_"


def kept_form(key: str, fields: tuple[str, ...]):
    """`st.form(key)` that keeps what was typed when its step refuses it (the error shows with the
    input still there), and after `form_done(key, message)` shows that message and empties its text
    boxes (`fields`, their keys; choices stay for the next entry)."""
    message = st.session_state.pop(_FORM_DONE + key, None)
    if message is not None:
        for field in fields:
            st.session_state[field] = ""  # set, not removed: only a set value reaches the browser
        if message:
            st.success(message)
    return st.form(key, clear_on_submit=False)


def form_done(key: str, message: str = "") -> None:
    """A kept form's step succeeded: run the page again with the form emptied, under `message`."""
    st.session_state[_FORM_DONE + key] = message
    st.rerun()


def show_flash() -> None:
    """Show the success message a `run_step(..., rerun=True, flash=True)` left for this run."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(message)


def progress_bar(text: str, stage_text: Callable[[str], str] | None = None) -> tuple[object, Callable[[float, str], None]]:
    """A progress bar and the `progress(fraction, stage)` callback the pipeline steps take; the bar
    shows `stage_text(stage)` (default: the stage itself)."""
    bar = st.progress(0.0, text=text)

    def progress(fraction: float, stage: str) -> None:
        bar.progress(fraction, text=stage_text(stage) if stage_text else stage)

    return bar, progress


def confirmed_step(label: str, fn: Callable[..., T], *args: object, key: str, confirm: str,
                   confirm_key: str | None = None, warning: str | None = None, **step: Any) -> T | None:
    """A destructive action: an optional warning, a checkbox to confirm (key `confirm_key`, default
    `{key}_confirm`) and a primary button (key `key`) enabled only once it is ticked. On the click,
    `fn` runs through `run_step` (`step` holds its options and `fn`'s keyword arguments)."""
    if warning:
        st.warning(warning)
    confirmed = st.checkbox(confirm, key=confirm_key or f"{key}_confirm")
    if st.button(label, key=key, type="primary", disabled=not confirmed):
        return run_step(fn, *args, **step)
    return None
