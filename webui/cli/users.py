"""``closeloop user``: accounts and API tokens."""

from __future__ import annotations

import click

from .common import build


@click.group()
def user() -> None:
    """Accounts and API tokens."""


@user.command("create")
@click.argument("username")
@click.option("--role", required=True)
@click.option("--name", default=None)
@click.password_option()
def user_create(username: str, role: str, name: str | None, password: str) -> None:
    from processes.accounts.service import create_user, hash_password
    from processes.errors import DomainError

    try:
        with build().db.session() as session:
            create_user(session, username, hash_password(password), role, name)
    except DomainError as err:
        raise click.ClickException(f"{err.code}: {err.params}") from err
    click.echo(f"created {username}")


@user.command("token")
@click.argument("username")
def user_token(username: str) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is stored)."""
    from sqlalchemy import select

    from processes.accounts.models import User
    from processes.accounts.service import issue_token

    with build().db.session() as session:
        account = session.scalar(select(User).where(User.username == username))
        if account is None:
            raise click.ClickException(f"no user {username!r}")
        click.echo(issue_token(session, account))
