"""Record of processing: PI categories per source with volumes, purposes, recipients, retention, sensitive PI."""
import streamlit as st

from governance.access import audit, masking
from governance.access.events import Event
from governance.privacy import ropa
from governance.ui.guard import require
from governance.ui.session import tr
from governance.ui.widgets import table

ctx = require("ropa.view")
st.title(tr("page.ropa"))
st.caption(tr("ropa.intro"))

with ctx.db.cursor() as cur:
    record = ropa.build(cur)
    policy = masking.policy_frame(cur)

c = st.columns(4)
c[0].metric(tr("ropa.sources"), len(record.sources))
c[1].metric(tr("ropa.categories"), record.register["category"].nunique())
c[2].metric(tr("ropa.sensitive_count"), record.sensitive["category"].nunique())
c[3].metric(tr("ropa.records"), f"{int(record.sources['standardized_records'].sum()):,}" if not record.sources.empty else 0)

for title, frame in (("ropa.register", record.register), ("ropa.sensitive", record.sensitive),
                     ("ropa.purposes", record.purposes), ("ropa.recipients", record.recipients),
                     ("ropa.retention", record.retention)):
    st.subheader(tr(title))
    if frame.empty:
        st.caption(tr("ropa.none"))
    else:
        table(frame)


def download(kind: str):
    def build() -> bytes:
        audit.log(ctx.db, ctx.user.username, Event.ROPA_EXPORT, "ropa", kind)
        if kind == "xlsx":
            return ropa.to_xlsx(record)
        if kind == "csv":
            return ropa.to_csv(record)
        return ropa.pipia_markdown(record, policy).encode("utf-8")
    return build


c = st.columns(3)
c[0].download_button(tr("ropa.download_xlsx"), data=download("xlsx"), file_name="record-of-processing.xlsx",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                     key="ropa_xlsx")
c[1].download_button(tr("ropa.download_csv"), data=download("csv"), file_name="record-of-processing.csv",
                     mime="text/csv", on_click="ignore", key="ropa_csv")
c[2].download_button(tr("ropa.download_pipia"), data=download("md"), file_name="pipia-stub.md",
                     mime="text/markdown", on_click="ignore", key="ropa_pipia")
