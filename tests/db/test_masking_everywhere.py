"""One masking: a household's personal data reads the same through the export, the page query and the CLI."""

from __future__ import annotations

import csv

from sqlalchemy import create_engine, text

from tests.db._cli import main
from etl.export import query_export
from store.queries import household_roster




def test_a_household_is_masked_the_same_everywhere(demo_url, tmp_path, capsys) -> None:
    engine = create_engine(demo_url)
    with engine.connect() as conn:
        key, code, name, id_number, phone = conn.execute(text(
            "SELECT h.household_key, h.grid_code, r.name, r.id_number, r.phone FROM households h "
            "JOIN residents r ON r.household_id = h.id WHERE r.relation = '户主' AND r.id_number IS NOT NULL "
            "AND r.phone IS NOT NULL AND h.grid_code IS NOT NULL ORDER BY h.id LIMIT 1")).one()
        exported = query_export(conn, "households").set_index("household_key").loc[key]
        page = household_roster(conn, code)
        page = page[(page["address"] == exported["address"]) & (page["relation"] == "户主")].iloc[0]
    engine.dispose()
    out = tmp_path / "households.csv"
    assert main(["export", "households", "--out", str(out)]) == 0
    capsys.readouterr()
    with out.open(encoding="utf-8-sig") as handle:
        cli = next(row for row in csv.DictReader(handle) if row["household_key"] == key)

    export_values = (exported["householder_name"], exported["householder_id_number"], exported["householder_phone"])
    page_values = (page["name"], page["id_number"], page["phone"])
    cli_values = (cli["householder_name"], cli["householder_id_number"], cli["householder_phone"])
    assert export_values == page_values == cli_values
    assert name not in export_values and id_number not in export_values and phone not in export_values
    assert export_values[1][:6] == id_number[:6] and export_values[1][-4:] == id_number[-4:]
    assert export_values[2][:3] == phone[:3] and export_values[2][-4:] == phone[-4:]
