"""A restart deploys the shipped diagrams only when they are new: an owner's newer version survives it."""

from __future__ import annotations

from engine.deployments import content_hash, read_models


def test_a_restart_keeps_an_owners_newer_version_and_a_release_with_new_diagrams_deploys(platform) -> None:  # noqa: ANN001
    shipped = read_models(platform.settings.models_dir)
    edited = dict(shipped)
    edited["ticket_lifecycle.bpmn"] = shipped["ticket_lifecycle.bpmn"].replace(
        'name="Ticket created"', 'name="Ticket opened"', 1
    )
    assert edited != shipped
    with platform.db.session() as session:
        platform.engine.deployments.deploy(session, edited, "owner")

    platform.deploy_shipped_models()  # what `closeloop run` and `serve` do at startup
    with platform.db.session() as session:
        current = platform.engine.deployments.current(session, "ticket_lifecycle")
        assert current is not None and current.content_hash == content_hash(edited)

        # a release whose diagrams changed: content never deployed before becomes current
        released = dict(shipped)
        released["ticket_lifecycle.bpmn"] = shipped["ticket_lifecycle.bpmn"].replace(
            'name="Ticket created"', 'name="Ticket received"', 1
        )
        assert platform.engine.deployments.deploy_if_new(session, released, "startup") is not None
        assert platform.engine.deployments.current(session, "ticket_lifecycle").content_hash == content_hash(released)
        assert platform.engine.deployments.deploy_if_new(session, released, "startup") is None
