"""A click group whose commands are imported only when they run.

``attain --help`` lists every command from its one-line summary kept here, so
neither the help nor ``--version`` nor a light command imports the engines
(pandas, numpy, the solvers) that the heavy commands need. A test checks each
kept summary against the command's own help, so the two cannot drift.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["LazyCommand", "LazyGroup"]


class LazyCommand:
    """Where a command lives (``module:attribute``) and its one-line summary."""

    __slots__ = ("short_help", "target")

    def __init__(self, target: str, short_help: str) -> None:
        self.target = target
        self.short_help = short_help

    def summary(self, limit: int) -> str:
        """The summary cut to ``limit`` characters, as click cuts a loaded command's."""
        return click.Command(None, help=self.short_help).get_short_help_str(limit)

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A :class:`click.Group` that imports a command's module on first use
    (click's documented lazy-loading pattern)."""

    def __init__(
        self, *args: object, lazy_commands: dict[str, LazyCommand] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands: dict[str, LazyCommand] = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is not None and cmd_name not in self.commands:
            self.add_command(lazy.load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, without importing the lazy commands."""
        rows = []
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, self.lazy_commands[name].summary(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
