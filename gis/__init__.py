"""GridGov's generic spatial core: settings, errors, CRS, measurement, joins, I/O, web maps, database.

Knows nothing about grids, households or Streamlit.
"""
