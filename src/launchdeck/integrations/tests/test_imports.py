"""Spreadsheet import and export: dry run, all-or-nothing apply, clear rejections, round trips."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.models import System, SystemDependency
from launchdeck.core.errors import ValidationFailed
from launchdeck.integrations import services, tabular
from launchdeck.integrations.models import ImportBatch
from launchdeck.org.models import Team

TEAMS_CSV = (
    "name,department,capacity_person_days_per_week,skills,calendar,description\n"
    "Falcon,Payments,20,development; testing,,\n"
    "Orion,Payments,15.5,testing,,\n"
)


def workbook(**sheets: list[list]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def manager(make_user):
    return make_user(Role.PORTFOLIO_MANAGER, Role.RELEASE_MANAGER, username="pm")


@pytest.fixture
def payments(manager):
    from launchdeck.org import services as org

    return org.department_create(actor=manager, name="Payments", cost_centre="CC-1")


def test_dry_run_reports_every_row_and_changes_nothing(manager, payments):
    events = AuditEvent.objects.count()
    batch = services.import_preview(actor=manager, file_name="teams.csv", content=TEAMS_CSV.encode(), dataset="teams")
    assert [(row["key"], row["action"]) for row in batch.report["rows"]] == [
        ("Falcon", "created"),
        ("Orion", "created"),
    ]
    assert batch.report["summary"] == {"teams": {"created": 2}}
    assert not Team.objects.exists()
    assert AuditEvent.objects.count() == events + 1  # only the import.previewed event
    assert AuditEvent.objects.filter(event_type="import.previewed").exists()


def test_apply_creates_everything_through_the_services(manager, payments):
    batch = services.import_preview(actor=manager, file_name="teams.csv", content=TEAMS_CSV.encode(), dataset="teams")
    services.import_apply(actor=manager, batch=batch)
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Falcon", "Orion"]
    assert Team.objects.get(name="Falcon").skill_codes == ["development", "testing"]
    assert AuditEvent.objects.filter(event_type="team.created").count() == 2
    assert AuditEvent.objects.filter(event_type="import.applied").count() == 1
    batch.refresh_from_db()
    assert batch.status == "applied"


def test_a_second_import_updates_only_what_changed(manager, payments):
    first = services.import_preview(actor=manager, file_name="t.csv", content=TEAMS_CSV.encode(), dataset="teams")
    services.import_apply(actor=manager, batch=first)
    changed = TEAMS_CSV.replace("Orion,Payments,15.5", "Orion,Payments,18")
    second = services.import_preview(actor=manager, file_name="t.csv", content=changed.encode(), dataset="teams")
    assert [row["action"] for row in second.report["rows"]] == ["unchanged", "updated"]


def test_one_bad_row_means_nothing_is_imported(manager, payments):
    content = TEAMS_CSV + "Lynx,Nowhere,10,testing,,\nVega,Payments,-3,testing,,\n"
    batch = services.import_preview(actor=manager, file_name="t.csv", content=content.encode(), dataset="teams")
    rejected = [row for row in batch.report["rows"] if row["action"] == "rejected"]
    assert [(row["row"], row["column"], row["reason"]) for row in rejected] == [
        (4, "department", "Unknown department 'Nowhere'."),
        (5, "capacity_person_days_per_week", rejected[1]["reason"]),
    ]
    assert "negative" in rejected[1]["reason"].lower() or "greater than or equal" in rejected[1]["reason"].lower()
    with pytest.raises(ValidationFailed, match="Nothing was imported: 2 row"):
        services.import_apply(actor=manager, batch=batch)
    assert not Team.objects.exists()
    batch.refresh_from_db()
    assert batch.status == "refused"


def test_a_workbook_imports_sheets_in_dependency_order(manager):
    content = workbook(
        systems=[["name", "owner_team", "tier"], ["Ledger", "Falcon", 1], ["Web", "Falcon", 3]],
        teams=[["name", "department", "capacity_person_days_per_week"], ["Falcon", "Payments", 20]],
        departments=[["name", "cost_centre"], ["Payments", "CC-1"]],
        system_dependencies=[["source", "target", "interface_kind"], ["Web", "Ledger", "api"]],
    )
    batch = services.import_preview(actor=manager, file_name="estate.xlsx", content=content)
    assert batch.report["rejected"] == 0, batch.report["rows"]
    services.import_apply(actor=manager, batch=batch)
    assert SystemDependency.objects.get().source.name == "Web"
    assert System.objects.get(name="Ledger").tier == 1


@pytest.mark.parametrize(
    ("content", "dataset", "message"),
    [
        (b"name,colour\nFalcon,red\n", "teams", "unknown columns colour; missing required columns department"),
        (b"name,name,department\n", "teams", "repeated columns name"),
        ("name,cost_centre\nZürich,CC\n".encode("latin-1"), "departments", "not UTF-8 text"),
        (b"", "teams", "The file is empty."),
        (b"name,department\n", "nonsense", "Say what the CSV holds"),
        (b"PK\x03\x04 not really a workbook", "", "cannot be opened"),
    ],
)
def test_bad_files_get_a_specific_message_and_change_nothing(manager, content, dataset, message):
    with pytest.raises(ValidationFailed) as caught:
        services.import_preview(actor=manager, file_name="upload.csv", content=content, dataset=dataset)
    assert message in caught.value.detail
    assert not ImportBatch.objects.exists() and not Team.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read():
    with pytest.raises(ValidationFailed, match=r"The file is 50.0 MB; the limit is 20 MB."):
        services.check_upload_size(50 * 1024 * 1024)


def test_unknown_sheets_are_named(manager):
    with pytest.raises(ValidationFailed, match="Unknown sheet 'sheet1'"):
        services.import_preview(actor=manager, file_name="x.xlsx", content=workbook(Sheet1=[["a"]]))


def test_rows_the_role_may_not_write_are_rejected(make_user, payments):
    quality = make_user(Role.QUALITY_MANAGER)
    batch = services.import_preview(actor=quality, file_name="t.csv", content=TEAMS_CSV.encode(), dataset="teams")
    assert {row["action"] for row in batch.report["rows"]} == {"rejected"}
    assert "does not allow" in batch.report["rows"][0]["reason"]


def test_semicolon_csv_and_byte_order_mark_are_read(manager, payments):
    content = "\ufeffname;department;capacity_person_days_per_week\nFalcon;Payments;20\n".encode()
    batch = services.import_preview(actor=manager, file_name="t.csv", content=content, dataset="teams")
    assert batch.report["summary"] == {"teams": {"created": 1}}


class _RollBack(Exception):
    pass


def test_export_then_import_into_an_empty_database_then_export_gives_the_same_files(db):
    from django.db import transaction

    from launchdeck.accounts import services as accounts
    from launchdeck.accounts.models import User
    from launchdeck.demo.generator import load_demo
    from launchdeck.integrations.datasets import DATASETS

    # Schedule dependencies name releases, which no dataset carries: their round trip is tested on its own.
    keys = [key for key in DATASETS if key != "schedule_dependencies"]
    try:
        with transaction.atomic():
            load_demo(preset="demo", seed=3)
            before_csv = {key: services.export_file(user=None, datasets=[key], file_format="csv")[1] for key in keys}
            _, before_xlsx = services.export_file(user=None, datasets=keys, file_format="xlsx")
            usernames = list(User.objects.values_list("username", flat=True))
            raise _RollBack
    except _RollBack:
        pass
    assert not Team.objects.exists()
    for username in usernames:  # rows name sign-in accounts (people, owners), which are not part of the datasets
        accounts.user_create(actor=None, username=username, password="a-perfectly-fine-passphrase", roles=[])
    batch = services.import_preview(actor=None, file_name="all.xlsx", content=before_xlsx)
    rejected = [
        (row["sheet"], row["column"], row["reason"]) for row in batch.report["rows"] if row["action"] == "rejected"
    ]
    assert batch.report["rejected"] == 0, rejected[:3]
    services.import_apply(actor=None, batch=batch)
    for key in keys:
        assert services.export_file(user=None, datasets=[key], file_format="csv")[1] == before_csv[key], key
    _, after_xlsx = services.export_file(user=None, datasets=keys, file_format="xlsx")
    assert _values(after_xlsx) == _values(before_xlsx)


def _values(content: bytes) -> dict:
    book = load_workbook(io.BytesIO(content))
    return {sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()] for sheet in book.worksheets}


def test_reading_xlsx_normalises_typed_cells():
    import datetime

    assert tabular.cell_text(15.0) == "15"
    assert tabular.cell_text(15.5) == "15.5"
    assert tabular.cell_text(datetime.datetime(2026, 1, 31)) == "2026-01-31"
    assert tabular.cell_text(None) == ""


@pytest.mark.parametrize(
    ("written", "read"),
    [("15,5", "15.5"), ("1,500", "1500"), ("1.234,5", "1234.5"), ("1,234.5", "1234.5"), ("2 500", "2500"), ("7", "7")],
)
def test_numbers_are_read_as_spreadsheets_in_any_locale_write_them(written, read):
    from decimal import Decimal

    from launchdeck.integrations.datasets import _decimal

    assert _decimal({"amount": written}, "amount") == Decimal(read)


def test_a_column_left_out_leaves_existing_values_alone(manager, payments):
    first = services.import_preview(actor=manager, file_name="t.csv", content=TEAMS_CSV.encode(), dataset="teams")
    services.import_apply(actor=manager, batch=first)
    Team.objects.filter(name="Falcon").update(description="Keeps the payments lights on")
    narrower = "name,department,capacity_person_days_per_week\nFalcon,Payments,25\n"
    batch = services.import_preview(actor=manager, file_name="t.csv", content=narrower.encode(), dataset="teams")
    services.import_apply(actor=manager, batch=batch)
    falcon = Team.objects.get(name="Falcon")
    assert (falcon.capacity_person_days_per_week, falcon.description) == (25, "Keeps the payments lights on")
    assert falcon.skill_codes == ["development", "testing"]


def test_sheet_names_are_matched_whatever_their_case(manager, payments):
    content = workbook(Teams=[["name", "department"], ["Falcon", "Payments"]])
    batch = services.import_preview(actor=manager, file_name="x.xlsx", content=content)
    assert batch.report["summary"] == {"teams": {"created": 1}}


def test_a_tier_out_of_range_says_which_tiers_exist(manager, payments):
    content = workbook(
        teams=[["name", "department"], ["Falcon", "Payments"]],
        systems=[["name", "owner_team", "tier"], ["Ledger", "Falcon", 7]],
    )
    batch = services.import_preview(actor=manager, file_name="x.xlsx", content=content)
    [rejected] = [row for row in batch.report["rows"] if row["action"] == "rejected"]
    assert rejected["reason"] == "The criticality tier is 1, 2, 3 or 4, not 7."


def test_a_template_has_the_headers_only(manager, payments, api_as):
    name, content = services.export_file(user=manager, datasets=["teams"], file_format="csv", template=True)
    assert (name, content) == (
        "teams-template.csv",
        b"name,department,capacity_person_days_per_week,skills,calendar,description\r\n",
    )
    response = api_as(manager).get(
        "/exports", {"dataset": ["departments", "teams"], "format": "xlsx", "template": "true"}
    )
    assert response.status_code == 200
    assert _values(response.content) == {
        "departments": [["name", "cost_centre", "calendar", "description"]],
        "teams": [["name", "department", "capacity_person_days_per_week", "skills", "calendar", "description"]],
    }


def test_the_export_page_downloads_a_template(client, manager):
    client.force_login(manager)
    response = client.get("/exchange/export/", {"datasets": ["systems"], "format": "csv", "template": "on"})
    assert response["Content-Disposition"] == 'attachment; filename="systems-template.csv"'
    assert response.content.decode().strip() == "name,owner_team,kind,tier,lifecycle,description,external_ids"


# Schedule dependencies


DEPENDENCIES_HEADER = "predecessor_release,predecessor_item,successor_release,successor_item,kind,lag_days,note\n"


@pytest.fixture
def plan(db):
    """Two planned releases, each with a Build and a SIT phase and a Go-live milestone; the portal also has a phase
    and a milestone both named Cutover."""
    import datetime

    from launchdeck.releases.tests.factories import MilestoneFactory, PhaseFactory, ReleaseFactory

    rows = {}
    for name in ("Ledger 2.1", "Portal 5.0"):
        release = ReleaseFactory(name=name, status="planned")
        start = release.planned_start
        rows[name] = {
            "release": release,
            "Build": PhaseFactory(release=release, name="Build", position=1),
            "SIT": PhaseFactory(
                release=release,
                name="SIT",
                kind="sit",
                position=2,
                planned_start=start + datetime.timedelta(days=14),
                planned_end=start + datetime.timedelta(days=25),
            ),
            "Go-live": MilestoneFactory(release=release, name="Go-live", kind="deploy"),
        }
    portal = rows["Portal 5.0"]["release"]
    rows["Portal 5.0"]["phase: Cutover"] = PhaseFactory(
        release=portal,
        name="Cutover",
        kind="release",
        position=3,
        planned_start=portal.planned_end - datetime.timedelta(days=4),
        planned_end=portal.planned_end,
    )
    rows["Portal 5.0"]["milestone: Cutover"] = MilestoneFactory(release=portal, name="Cutover", kind="other")
    return rows


def _dependencies_csv(*rows: str) -> bytes:
    return (DEPENDENCIES_HEADER + "".join(f"{row}\n" for row in rows)).encode()


LINKS = (
    "Ledger 2.1,,Portal 5.0,,SS,5,Portal starts a week after the ledger",
    "Ledger 2.1,Build,Portal 5.0,sit,FS,0,",
    "Ledger 2.1,Go-live,Portal 5.0,phase: Cutover,finish to finish,-2,Cut over once the ledger is live",
)


def test_dependencies_are_previewed_then_applied_through_the_services(manager, plan):
    from launchdeck.releases.models import ScheduleDependency

    content = _dependencies_csv(*LINKS)
    batch = services.import_preview(
        actor=manager, file_name="links.csv", content=content, dataset="schedule_dependencies"
    )
    assert [(row["row"], row["action"]) for row in batch.report["rows"]] == [(n, "created") for n in (2, 3, 4)]
    assert not ScheduleDependency.objects.exists()

    services.import_apply(actor=manager, batch=batch)
    ledger, portal = plan["Ledger 2.1"], plan["Portal 5.0"]
    made = {
        (row.predecessor_key, row.successor_key): (row.kind, row.lag_days, row.note)
        for row in ScheduleDependency.objects.all()
    }
    assert made == {
        (f"release:{ledger['release'].pk}", f"release:{portal['release'].pk}"): (
            "SS",
            5,
            "Portal starts a week after the ledger",
        ),
        (f"phase:{ledger['Build'].pk}", f"phase:{portal['SIT'].pk}"): ("FS", 0, ""),
        (f"milestone:{ledger['Go-live'].pk}", f"phase:{portal['phase: Cutover'].pk}"): (
            "FF",
            -2,
            "Cut over once the ledger is live",
        ),
    }
    assert AuditEvent.objects.filter(event_type="schedule_dependency.created").count() == 3

    changed = _dependencies_csv(LINKS[0].replace(",SS,5,", ",SS,7,"), *LINKS[1:])
    again = services.import_preview(
        actor=manager, file_name="links.csv", content=changed, dataset="schedule_dependencies"
    )
    assert [row["action"] for row in again.report["rows"]] == ["updated", "unchanged", "unchanged"]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("Atlantis 1.0,,Portal 5.0,,FS,0,", "predecessor_release", "Unknown release 'Atlantis 1.0'."),
        ("Ledger 2.1,Decommission,Portal 5.0,,FS,0,", "predecessor_item", "Ledger 2.1 has no phase or milestone"),
        ("Ledger 2.1,,Portal 5.0,milestone: SIT,FS,0,", "successor_item", "Portal 5.0 has no milestone named 'SIT'."),
        ("Ledger 2.1,,Portal 5.0,Cutover,FS,0,", "successor_item", "write 'phase: Cutover' or 'milestone: Cutover'"),
        ("Ledger 2.1,,Portal 5.0,,XS,0,", "kind", "kind 'XS' is not one of FS, SS, FF, SF"),
        ("Ledger 2.1,,Portal 5.0,,FS,251,", "lag_days", "A lag is at most 250 working days either way."),
        ("Ledger 2.1,,Portal 5.0,,FS,1.5,", "lag_days", "lag_days must be a whole number."),
        ("Ledger 2.1,SIT,Ledger 2.1,SIT,FS,0,", "successor_item", "An item cannot depend on itself."),
        ("Ledger 2.1,,Portal 5.0,,,0,", None, None),
    ],
)
def test_a_bad_dependency_row_is_rejected_with_its_column_and_reason(manager, plan, row, column, reason):
    batch = services.import_preview(
        actor=manager, file_name="links.csv", content=_dependencies_csv(row), dataset="schedule_dependencies"
    )
    [report] = batch.report["rows"]
    if column is None:  # the control: a good row, the kind left to its default
        assert report["action"] == "created"
        return
    assert (report["action"], report["column"]) == ("rejected", column)
    assert reason in report["reason"]


def test_a_dependency_closing_a_cycle_or_touching_a_shipped_release_is_rejected(manager, plan):
    from launchdeck.releases.tests.factories import ReleaseFactory

    ReleaseFactory(name="Ledger 2.0", status="released")
    content = _dependencies_csv(
        "Ledger 2.1,Build,Portal 5.0,SIT,FS,0,",
        "Portal 5.0,SIT,Ledger 2.1,Build,FS,0,",
        "Ledger 2.0,,Ledger 2.1,,FS,0,",
    )
    batch = services.import_preview(
        actor=manager, file_name="links.csv", content=content, dataset="schedule_dependencies"
    )
    rows = [(row["action"], row.get("column"), row.get("reason")) for row in batch.report["rows"]]
    assert rows[0] == ("created", None, None)
    assert rows[1][:2] == ("rejected", "predecessor_item")
    assert rows[1][2].startswith("This dependency would close a cycle: ")
    assert "Build of Ledger 2.1 → SIT of Portal 5.0" in rows[1][2]
    assert rows[2][:2] == ("rejected", "predecessor_release")
    assert "Ledger 2.0 is released" in rows[2][2]
    with pytest.raises(ValidationFailed, match="Nothing was imported: 2 row"):
        services.import_apply(actor=manager, batch=batch)


def test_dependencies_export_then_import_into_a_plan_without_them_then_export_give_the_same_file(manager, plan):
    from launchdeck.releases.models import ScheduleDependency

    batch = services.import_preview(
        actor=manager, file_name="links.csv", content=_dependencies_csv(*LINKS), dataset="schedule_dependencies"
    )
    services.import_apply(actor=manager, batch=batch)
    name, before = services.export_file(user=manager, datasets=["schedule_dependencies"], file_format="csv")
    assert name == "schedule_dependencies.csv"
    assert before.decode().splitlines() == [
        DEPENDENCIES_HEADER.strip(),
        "Ledger 2.1,,Portal 5.0,,SS,5,Portal starts a week after the ledger",
        "Ledger 2.1,Build,Portal 5.0,SIT,FS,0,",
        "Ledger 2.1,Go-live,Portal 5.0,phase: Cutover,FF,-2,Cut over once the ledger is live",
    ]
    ScheduleDependency.objects.all().delete()
    again = services.import_preview(
        actor=manager, file_name="links.csv", content=before, dataset="schedule_dependencies"
    )
    services.import_apply(actor=manager, batch=again)
    assert services.export_file(user=manager, datasets=["schedule_dependencies"], file_format="csv")[1] == before


def test_the_dependencies_template_has_its_headers(manager):
    name, content = services.export_file(
        user=manager, datasets=["schedule_dependencies"], file_format="csv", template=True
    )
    assert (name, content.decode()) == ("schedule_dependencies-template.csv", DEPENDENCIES_HEADER.replace("\n", "\r\n"))
