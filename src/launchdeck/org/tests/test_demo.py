"""The organisation in the demo data."""

from launchdeck.accounts.models import User
from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.demo.generator import load_demo
from launchdeck.org.models import Calendar, Department, Person, Team


def test_the_demo_has_calendars_departments_teams_and_people_linked_to_the_role_users(db):
    load_demo(preset="demo", seed=1)
    counts = (Calendar.objects.count(), Department.objects.count(), Team.objects.count(), Person.objects.count())
    assert counts == (5, 6, 20, 120)
    linked = dict(Person.objects.filter(user__isnull=False).values_list("user__username", "full_name"))
    assert set(linked) == {role for role in Role.values if role != Role.ADMIN}
    assert linked[Role.RELEASE_MANAGER] == User.objects.get(username=Role.RELEASE_MANAGER).get_full_name()
    assert not Person.objects.filter(user__username=Role.ADMIN).exists()
    assert not Team.objects.filter(members=None).exists()
    assert AuditEvent.objects.filter(event_type="person.created").count() == 120
    assert Calendar.objects.get(country="GB", subdivision="ENG").closures.count() == 1
