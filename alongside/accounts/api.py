from ninja import Router, Schema

router = Router(tags=["people"])


class OrganisationRoleOut(Schema):
    organisation: str
    organisation_slug: str
    role: str


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    time_zone: str
    roles: list[OrganisationRoleOut]


@router.get("/me", response=MeOut, summary="The signed-in person")
def me(request):
    user = request.user
    roles = [
        OrganisationRoleOut(
            organisation=grant.organisation.name, organisation_slug=grant.organisation.slug, role=grant.role
        )
        for grant in user.org_roles.select_related("organisation").order_by("organisation__name", "role")
    ]
    return MeOut(id=user.pk, email=user.email, display_name=user.display_name, time_zone=user.time_zone, roles=roles)
