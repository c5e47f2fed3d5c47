"""ETL: reading, validating, loading and exporting GridGov data."""
