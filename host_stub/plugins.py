"""Loading plugins and calling their hooks without letting one take the host down.

pluggy stops a hook call at the first exception, so the host calls each
plugin's implementation on its own, logs what fails and marks that plugin
failed; the other plugins and the host keep serving.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, is_dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import Flask

from . import hookspecs

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "workspace.plugins"


class PluginConflict(Exception):
    """A plugin asked for a name or URL that another plugin already holds."""


@dataclass
class PluginRecord:
    name: str
    module: Any = None
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.error is not None


class PluginHost:
    """The platform's plugin manager, in ``app.extensions['workspace_plugins']``."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.blueprint_prefixes: dict[str, str] = {}

    def load_entry_points(self, blocked: set[str] | frozenset[str] = frozenset()):
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in blocked:
                logger.info("plugin %s is blocked by configuration", ep.name)
                continue
            try:
                module = ep.load()
            except Exception as exc:
                logger.exception("plugin %s failed to import", ep.name)
                self.records[ep.name] = PluginRecord(ep.name, error=_describe(exc))
                continue
            self.register(ep.name, module)

    def register(self, name: str, module: Any) -> PluginRecord:
        record = PluginRecord(name, module)
        self.records[name] = record
        try:
            self.pm.register(module, name=name)
            self.pm.check_pending()
        except Exception as exc:
            logger.exception("plugin %s failed to register", name)
            if self.pm.is_registered(module):
                self.pm.unregister(module)
            record.error = _describe(exc)
            return record
        logger.info("plugin %s registered", name)
        return record

    def unregister(self, name: str) -> None:
        record = self.records.pop(name, None)
        if (
            record
            and record.module is not None
            and self.pm.is_registered(record.module)
        ):
            self.pm.unregister(record.module)

    def active(self) -> list[PluginRecord]:
        return [r for r in self.records.values() if not r.failed]

    def call_one(self, name: str, hook: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of a hook; ``None`` when it has none."""
        record = self.records.get(name)
        if record is None or record.failed:
            return None
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name != name:
                continue
            try:
                return impl.function(**{a: kwargs[a] for a in impl.argnames})
            except Exception as exc:
                logger.exception("plugin %s failed in %s", name, hook)
                record.error = _describe(exc)
                return None
        return None

    def call_each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every active plugin's implementation, isolating failures."""
        results = []
        for record in self.active():
            result = self.call_one(record.name, hook, **kwargs)
            if not record.failed and result is not None:
                results.append((record.name, result))
        return results

    def init_app(self, app: Flask) -> None:
        for record in self.active():
            self.current = record.name
            self.call_one(record.name, "workspace_init_app", app=app)
            info = self.call_one(record.name, "workspace_plugin_info")
            if info is not None:
                record.info = asdict(info) if is_dataclass(info) else dict(info)
            if not record.failed:
                logger.info("plugin %s loaded", record.name)
        self.current = None

    def register_blueprint(self, app: Flask, blueprint, url_prefix: str) -> None:
        """Register a plugin blueprint, refusing a name or prefix already held."""
        owner = self.current or "host"
        if blueprint.name in app.blueprints:
            raise PluginConflict(
                f"blueprint name {blueprint.name!r} of plugin {owner} is already "
                "registered"
            )
        for prefix, holder in self.blueprint_prefixes.items():
            if prefix == url_prefix and holder != owner:
                raise PluginConflict(
                    f"URL prefix {url_prefix!r} of plugin {owner} is held by {holder}"
                )
        app.register_blueprint(blueprint, url_prefix=url_prefix)
        self.blueprint_prefixes.setdefault(url_prefix, owner)

    current: str | None = None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
