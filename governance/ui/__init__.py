"""The thin Streamlit adapter: the only part of governance/ that imports streamlit."""
