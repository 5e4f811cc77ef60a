"""Tabular downloads: CSV (UTF-8 with BOM, for Excel) and XLSX, with spreadsheet formulas neutralized."""
from __future__ import annotations

import io

import pandas as pd

from governance.util import neutralize_formula


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralize_formula)
    out.columns = [neutralize_formula(str(c)) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    return _safe(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    """Every text cell is written as a string cell, so nothing is evaluated as a formula."""
    return to_xlsx_workbook({sheet: frame})


def to_xlsx_workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One sheet per frame, in order, each written like `to_xlsx_bytes`."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for sheet, frame in sheets.items():
        ws = wb.create_sheet(sheet)
        safe = _safe(frame)
        ws.append(list(safe.columns))
        for row in safe.itertuples(index=False):
            ws.append([None if (v is None or (pd.api.types.is_scalar(v) and pd.isna(v))) else
                       (v if isinstance(v, (int, float)) else str(v)) for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
