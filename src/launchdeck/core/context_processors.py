from django.urls import reverse

from launchdeck.core.registry import nav_for


def navigation(request):
    """The main navigation for the signed-in user, with the entry for the current page marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for item in nav_for(user):
        url = reverse(item.url_name)
        items.append({"label": item.label, "url": url, "active": request.path.startswith(url) and url != "/"})
    return {"nav_items": items}
