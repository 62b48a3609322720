"""`make lint`: fail when modules of the project import each other in a loop (issue 13: no import
cycle anywhere). Every import counts, function-level ones too; `if TYPE_CHECKING:` imports do not
(they never run). Prints each cycle as one line of modules and exits 1, or says how many modules
it checked."""

from __future__ import annotations

import sys

import grimp

PACKAGES = ("gridcast", "indexer", "api", "ml", "streaming")


def cycles() -> list[list[str]]:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    # Tarjan's strongly connected components, iteratively (deep packages would hit recursion).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def main() -> int:
    found = cycles()
    for component in found:
        print("import cycle: " + " <-> ".join(component))
    if found:
        return 1
    print(f"no import cycle in {', '.join(PACKAGES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
