"""The streamlit side of Liftoff, the only code that imports streamlit: cache (the engine and
reads cached per data version), session (who is signed in), widgets (pickers, the save helper,
downloads), text (escaping) and router (st.navigation over screens/)."""
