"""Streamlit page modules: one per page; common.py holds the cached loaders, i18n.py the strings."""
