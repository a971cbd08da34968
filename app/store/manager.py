"""The model store as the app and the command line use it: the catalog (built-in, the admin's and
the learner's own files), the library on disk, where downloads come from, and specs to load.

Built from the settings by `open_model_store`; the composition root and `codetutor models`
share it, so both list the same entries in the same states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.core.catalog import BUILTIN_CATALOG, Catalog, CatalogEntry, load_catalog
from app.core.gguf import ModelMissingError
from app.core.models import ModelSpec
from app.paths import AppPaths
from app.settings import Settings
from app.store.hub import HubConfig
from app.store.library import ModelLibrary, ModelState, ModelStatus

SITE_MODELS = "models.toml"
"""The admin's list of local model files, beside the site-wide settings."""


@dataclass
class ModelStore:
    """Catalog, library and hub configuration together.

    Attributes:
        library: the files on disk.
        hub: where downloads come from.
        n_ctx: the context length models are sized and loaded with (`model.n_ctx`).
        site_models: the admin's list of local files (read-only to the app).
        catalog: the entries, re-read by `reload`.
    """

    library: ModelLibrary
    hub: HubConfig
    n_ctx: int = 4096
    site_models: Path | None = None
    catalog: Catalog = field(default_factory=Catalog)

    def reload(self) -> Catalog:
        """Read the catalog files again (after a learner added a file, say)."""
        local = [p for p in (self.site_models, self.library.local_catalog) if p is not None]
        self.catalog = load_catalog([BUILTIN_CATALOG], local=local)
        return self.catalog

    def find(self, name: str) -> CatalogEntry | None:
        """The entry called `name` (entry id, model id or file name)."""
        return self.catalog.get(name)

    def statuses(self) -> list[ModelStatus]:
        """Every entry's state, in catalog order."""
        return [self.library.status(e) for e in self.catalog.entries]

    def spec(self, entry: CatalogEntry) -> ModelSpec:
        """The spec that loads `entry`'s ready file with the configured context.

        Raises:
            ModelMissingError: the entry is not ready (not downloaded, not checked, failed).
        """
        status = self.library.status(entry)
        if status.state is not ModelState.READY or status.path is None:
            raise ModelMissingError(
                status.path or Path(entry.file),
                f"{entry.display_name} is not ready ({status.words()}). Download or check it "
                "in Model ▸ Models… first.",
            )
        return entry.spec(status.path, self.n_ctx)

    def entry_for_path(self, path: str | Path) -> CatalogEntry | None:
        """The entry whose ready file is `path` (the model in use), if any."""
        target = Path(path).absolute()
        for entry in self.catalog.entries:
            ready = self.library.ready_path(entry)
            if ready is not None and ready.absolute() == target:
                return entry
        return None


def open_model_store(settings: Settings, paths: AppPaths) -> ModelStore:
    """The model store the settings describe: the learner's store in the user data dir, the
    admin's `model.store_dir`, the `model.mirror_endpoint`, offline from the environment."""
    shared = str(settings.get("model.store_dir") or "").strip()
    library = ModelLibrary(paths.data_dir / "models", Path(shared).expanduser() if shared else None)
    store = ModelStore(
        library=library,
        hub=HubConfig.from_settings(str(settings.get("model.mirror_endpoint") or "")),
        n_ctx=int(settings.get("model.n_ctx")),
        site_models=paths.site_config_dir / SITE_MODELS,
    )
    store.reload()
    return store
