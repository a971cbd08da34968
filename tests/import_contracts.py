"""An import-linter contract type for submodules of external packages (see pyproject.toml).

import-linter's own `forbidden` contract sees an external package only as a whole ("PySide6"),
so it cannot say "QtCore yes, QtWidgets no". This contract reads the import lines that Grimp
records for the external package instead.
"""

from __future__ import annotations

import re

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


def _names_submodule(line: str, package: str, submodule: str) -> bool:
    """Whether the import statement on `line` may import `package`.`submodule`.

    `from PySide6 import (` with the names on later lines cannot be told apart here, so it
    counts: write `from PySide6.QtCore import ...` instead.
    """
    if re.search(rf"(?<![\w.]){re.escape(package)}\.{re.escape(submodule)}(?![\w])", line):
        return True
    imported = re.match(rf"\s*from\s+{re.escape(package)}\s+import\s+(.*)", line)
    if imported is None:
        return False
    names = imported.group(1)
    return bool(re.search(rf"\b{re.escape(submodule)}\b", names)) or (
        "(" in names and ")" not in names
    )


class ForbiddenSubmodulesContract(Contract):
    """Source packages import none of the given submodules of external packages, directly.

    Every module under each source package is checked (indirect imports through another of
    our packages are caught by that package's own contract: list every package concerned).

    Configuration options:
        - source_modules: packages of ours (with their subpackages) that are checked.
        - forbidden_modules: external submodules, e.g. "PySide6.QtWidgets". Needs
          `include_external_packages = true`.
    """

    type_name = "forbidden_submodules"

    source_modules = fields.SetField(subfield=fields.ModuleField())
    forbidden_modules = fields.SetField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        """Find every import line of a source module that names a forbidden submodule."""
        violations: list[dict[str, object]] = []
        forbidden = sorted(str(name) for name in self.forbidden_modules)  # type: ignore[attr-defined]
        for source in sorted(m.name for m in self.source_modules):  # type: ignore[attr-defined]
            if source not in graph.modules:
                raise ValueError(f"Module '{source}' does not exist.")
            modules = {source} | graph.find_descendants(source)
            for importer in sorted(modules):
                for name in forbidden:
                    package, _, submodule = name.partition(".")
                    if not submodule or package not in graph.modules:
                        continue
                    for detail in graph.get_import_details(importer=importer, imported=package):
                        if _names_submodule(detail["line_contents"], package, submodule):
                            violations.append(
                                {
                                    "importer": importer,
                                    "forbidden": name,
                                    "line_number": detail["line_number"],
                                    "line_contents": detail["line_contents"],
                                }
                            )
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Print each offending import line."""
        for v in check.metadata["violations"]:
            output.print_error(
                f"{v['importer']} is not allowed to import {v['forbidden']}:", bold=True
            )
            output.print_error(
                f"-   {v['importer']}:{v['line_number']}: {v['line_contents']}", bold=False
            )
            if str(v["line_contents"]).rstrip().endswith("("):
                output.print_error(
                    "    (its names are on the next lines, which cannot be checked: import each "
                    "from its own module, e.g. `from PySide6.QtCore import ...`)",
                    bold=False,
                )
            output.new_line()
