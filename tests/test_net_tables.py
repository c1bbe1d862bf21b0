"""A route network's lists in CSV data files (`network.locations_file`, `network.routes_file`): what `refuge import
flee` writes for a large case. Data files do not count against the scenario file's 1 MB limit (which is for a
file written by hand); bad rows get the field, the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refuge
from refuge.errors import RefugeError
from refuge.interop.flee import main_import
from refuge.interop.flee.writer import TABLE_AFTER
from refuge.scenario.limits import MAX_FILE_BYTES


def _line_case(tmp: Path, n: int, data_rows: int) -> tuple[Path, Path]:
    """A Flee case of n places in a line (a conflict zone at one end, a camp at the other) whose camp's data file
    has `data_rows` rows."""
    import datetime as dt

    inp, val = tmp / "case" / "input", tmp / "case" / "validation"
    inp.mkdir(parents=True)
    val.mkdir(parents=True)
    rows = ["#name,region,country,latitude,longitude,location_type,conflict_date,population",
            "P0,r,Home,0,0,conflict_zone,0,100000"]
    rows += [f"P{i},r,Home,0,0,town,,500" for i in range(1, n - 1)]
    rows.append(f"P{n - 1},r,Away,0,0,camp,,100000")
    (inp / "locations.csv").write_text("\n".join(rows) + "\n")
    (inp / "routes.csv").write_text("#name1,name2,distance\n" + "".join(f"P{i},P{i + 1},{10 + i % 7}\n"
                                                                        for i in range(n - 1)))
    (inp / "sim_period.csv").write_text("StartDate,2020-01-01\nLength,20\n")
    (val / "data_layout.csv").write_text(f"total,c.csv\nP{n - 1},c.csv\n")
    day0 = dt.date(1780, 1, 1)
    (val / "c.csv").write_text("Date,count\n" + "".join(f"{day0 + dt.timedelta(days=i)},{i // 100}\n"
                                                       for i in range(data_rows))
                               + "2020-01-01,0\n2020-01-20,400\n")
    return inp, val


def test_a_large_case_keeps_its_network_and_data_in_data_files_beyond_the_limit(tmp_path):
    """3,000 places: locations and routes go to CSV data files beside the scenario (the scenario file stays under
    1 MB), and with a camp data file of over 1 MB too, the case imports, loads and runs: the limit is the
    scenario file's, not its data files'. The lists read back in the order of locations.csv and routes.csv."""
    n = 3000
    assert n * 2 > TABLE_AFTER
    inp, val = _line_case(tmp_path, n, 80_000)
    assert (val / "c.csv").stat().st_size > MAX_FILE_BYTES
    out = main_import(str(inp), str(tmp_path / "out" / "big.yaml"), str(val))
    data = out.parent / "big-data"
    assert out.stat().st_size < MAX_FILE_BYTES
    assert "locations_file: big-data/locations.table.csv" in out.read_text()
    assert sum(p.stat().st_size for p in data.iterdir()) > MAX_FILE_BYTES
    model = refuge.load(out)
    assert model.net.names == [f"P{i}" for i in range(n)]
    assert model.net.link_from.size == 2 * (n - 1)
    assert refuge.simulate(model, seed=0).spawned.sum() == 400


def test_a_small_case_keeps_its_lists_in_the_scenario(tmp_path):
    inp, val = _line_case(tmp_path, 20, 10)
    text = main_import(str(inp), str(tmp_path / "o.yaml"), str(val)).read_text()
    assert "locations_file" not in text and "routes.csv line 2" in text


def _scenario(tmp: Path, locations: str, routes: str) -> Path:
    (tmp / "locs.csv").write_text(locations)
    (tmp / "routes.csv").write_text(routes)
    path = tmp / "s.yaml"
    path.write_text("name: t\nstart: 2020-01-01\nend: 2020-01-10\nstates:\n  - {name: A, kind: origin}\n"
                    "  - {name: B, kind: destination}\n  - {name: moving, kind: transit}\n"
                    "network:\n  en_route: moving\n  locations_file: locs.csv\n  routes_file: routes.csv\n")
    return path


LOCS = "state,type,country,population,capacity\nA,town,X,100,\nB,camp,Y,,50\n"


def test_a_scenario_reads_its_network_files(tmp_path):
    """Rows of the files become locations and routes (an empty cell: the field's default)."""
    model = refuge.load(_scenario(tmp_path, LOCS, "a,b,km\nA,B,120\n"))
    net = model.net
    assert net.names == ["A", "B"] and net.link_from.size == 2
    assert net.loc_cap[0] < 0 and net.loc_cap[1] >= 0


@pytest.mark.parametrize("locs, routes, found", [
    (LOCS.replace("state,type", "name,type"), "a,b,km\nA,B,1\n", "network.locations_file: expected the header "
     "state,type,country,population,capacity; found locs.csv line 1: name,type"),
    (LOCS.replace("B,camp", "B,tent"), "a,b,km\nA,B,1\n", "network.locations_file: expected rows the format "
     "accepts; found locs.csv line 3, type: "),
    (LOCS, "a,b,km\nA,B\n", "network.routes_file: expected 3 cells a row (a,b,km); found routes.csv line 2: 2"),
    (LOCS, "a,b,km\nA,Q,1\n", "Q"),
])
def test_bad_rows_name_the_field_file_and_line(tmp_path, locs, routes, found):
    with pytest.raises(RefugeError) as exc:
        refuge.load(_scenario(tmp_path, locs, routes))
    assert found in str(exc.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.text(max_size=12), col=st.integers(0, 4))
def test_hostile_cells_are_refused_in_one_line_or_read(tmp_path, cell, col):
    """Any text in any cell of a locations file: the scenario loads or is refused with one line naming the field
    (no traceback, no NaN or huge number let through)."""
    cells = ["A", "town", "X", "100", ""]
    cells[col] = cell.replace("\n", " ").replace("\r", " ").replace('"', "").replace(",", " ")
    try:
        model = refuge.load(_scenario(tmp_path, "state,type,country,population,capacity\n" + ",".join(cells)
                                      + "\nB,camp,Y,,50\n", "a,b,km\nA,B,120\n"))
    except RefugeError as exc:
        assert "network." in str(exc) or "states" in str(exc) or "parameter" in str(exc)
        return
    assert model.net is not None
