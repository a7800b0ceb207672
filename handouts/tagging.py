"""Finish WeasyPrint's tagged PDF/UA-1 output: running headers and footers become artifacts.

WeasyPrint 70 marks the text of page-margin boxes (our running header, footer and page
numbers) with marked-content IDs but leaves them out of the structure tree (its tags.py says
so: PDF 1.7 has no artifact elements in the tree). A screen reader then meets orphaned content.
PDF/UA wants page furniture marked as ``/Artifact`` instead, so this rewrites exactly the
marked content that no structure element reaches, and drops its parent-tree entries.
"""
from __future__ import annotations

import io

import pikepdf

BDC = pikepdf.Operator("BDC")


def mark_page_furniture_as_artifacts(data: bytes) -> bytes:
    """The same PDF, with every marked-content sequence outside the structure tree an artifact."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        tree = pdf.Root.StructTreeRoot
        reachable = _reachable_elements(tree)
        parents = _parent_tree(tree)
        for page in pdf.pages:
            mcid_parents = parents.get(int(page.obj.get("/StructParents", -1)))
            if mcid_parents is None:
                continue
            orphans = {mcid for mcid, element in enumerate(mcid_parents)
                       if not isinstance(element, pikepdf.Dictionary)
                       or element.objgen not in reachable}
            if orphans:
                _rewrite_as_artifacts(pdf, page, orphans)
                for mcid in orphans:
                    mcid_parents[mcid] = None  # a null: no element owns it now
        output = io.BytesIO()
        # Same inputs, same bytes: the /ID is derived from the content, never from the clock.
        pdf.save(output, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return output.getvalue()


def _reachable_elements(tree: pikepdf.Dictionary) -> set[tuple[int, int]]:
    """Every structure element the tree's root leads to."""
    seen, stack = set(), list(_kids(tree))
    while stack:
        element = stack.pop()
        if not isinstance(element, pikepdf.Dictionary) or element.objgen in seen:
            continue
        if element.objgen != (0, 0):
            seen.add(element.objgen)
        stack.extend(_kids(element))
    return seen


def _kids(element: pikepdf.Dictionary) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _parent_tree(tree: pikepdf.Dictionary) -> dict[int, pikepdf.Array]:
    """StructParents key -> the array that maps a page's MCIDs to their elements."""
    numbers = tree.ParentTree.Nums
    return {int(numbers[i]): numbers[i + 1] for i in range(0, len(numbers), 2)
            if isinstance(numbers[i + 1], pikepdf.Array)}


def _rewrite_as_artifacts(pdf: pikepdf.Pdf, page: pikepdf.Page, mcids: set[int]) -> None:
    instructions = []
    for operands, operator in pikepdf.parse_content_stream(page):
        if (operator == BDC and len(operands) == 2 and isinstance(operands[1], pikepdf.Dictionary)
                and int(operands[1].get("/MCID", -1)) in mcids):
            operands = [pikepdf.Name.Artifact,
                        pikepdf.Dictionary(Type=pikepdf.Name.Pagination)]
        instructions.append((operands, operator))
    page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
