"""AppTest for governance.ui.actions, the helpers pages run library steps with: a GovernanceError is
shown once and gives None, a success message can outlive a rerun, and a destructive action waits
for its confirmation box."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _steps():
    import streamlit as st

    from governance.store.errors import GovernanceError
    from governance.ui.actions import confirmed_step, run_step, show_flash

    def refuse(*_):
        raise GovernanceError("not allowed")

    if st.button("fail", key="fail"):
        st.session_state["result"] = run_step(refuse, 1, on_error=lambda: st.session_state.update(cleaned=True))
    if st.button("double", key="double"):
        st.session_state["result"] = run_step(lambda x: x * 2, 21, success=lambda r: f"got {r}")
    if st.button("later", key="later"):
        run_step(lambda: 1, success="kept for the next run", rerun=True, flash=True)
    show_flash()
    st.session_state["erased"] = confirmed_step("Erase", lambda n: n, 3, key="erase", confirm="I am sure",
                                                warning="This erases 3 records.", success="Erased.")


def app() -> AppTest:
    at = AppTest.from_function(_steps)
    at.session_state["lang"] = "en"
    return at.run()


def test_a_governance_error_is_shown_once_and_gives_none():
    at = app()
    at.button(key="fail").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Error: not allowed"]
    assert at.session_state["result"] is None and at.session_state["cleaned"]


def test_a_result_and_its_success_message():
    at = app()
    at.button(key="double").click().run()
    assert at.session_state["result"] == 42
    assert [s.value for s in at.success] == ["got 42"]


def test_a_flash_message_survives_the_rerun_once():
    at = app()
    at.button(key="later").click().run()
    assert [s.value for s in at.success] == ["kept for the next run"]
    at.run()
    assert not at.success


def test_a_destructive_step_waits_for_its_confirmation():
    at = app()
    assert [w.value for w in at.warning] == ["This erases 3 records."]
    assert at.button(key="erase").disabled and at.session_state["erased"] is None
    at.checkbox(key="erase_confirm").check().run()
    at.button(key="erase").click().run()
    assert at.session_state["erased"] == 3 and [s.value for s in at.success] == ["Erased."]
