"""HTTP routes mounted beside the Streamlit UI in the same server (``st.App(..., routes=...)``)."""
