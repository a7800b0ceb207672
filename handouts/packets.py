"""Patient packets: printed sheets joined into one tagged PDF, with bookmarks per sheet.

A packet is made from PDFs the render gate already checked, so nothing is laid out again:
pikepdf appends the pages of each sheet and grafts its structure tree under the first one's
``Document`` element, renumbering the parent tree so that every marked-content reference
still finds its element. Each sheet keeps its own printed page numbers ("Page 1 of 2"); the
packet's page labels run from 1 to the end, and its bookmarks hold one entry per sheet with
that sheet's own headings under it. Same sheets, same bytes.
"""
from __future__ import annotations

import io

import pikepdf
from pikepdf import Dictionary, Name, OutlineItem


def join(sheets: list[bytes], title: str) -> bytes:
    """One PDF: the sheets in order, tagged as one document."""
    with pikepdf.open(io.BytesIO(sheets[0])) as packet:
        outline = [_outline_of(packet, 0)]
        for data in sheets[1:]:
            with pikepdf.open(io.BytesIO(data)) as sheet:
                first_page = len(packet.pages)
                _append(packet, sheet)
                outline.append(_outline_of(sheet, first_page))
        with packet.open_outline() as tree:
            tree.root.clear()
            tree.root.extend(outline)
        packet.Root.PageLabels = Dictionary(Nums=[0, Dictionary(S=Name.D)])
        packet.docinfo[Name.Title] = title
        with packet.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta["dc:title"] = title
        output = io.BytesIO()
        packet.save(output, deterministic_id=True, compress_streams=True,
                    object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return output.getvalue()


def _append(packet: pikepdf.Pdf, sheet: pikepdf.Pdf) -> None:
    """Append the sheet's pages and its structure, its parent-tree keys moved past ours."""
    tree, theirs = packet.Root.StructTreeRoot, sheet.Root.StructTreeRoot
    numbers = tree.ParentTree.Nums
    offset = max((int(numbers[i]) for i in range(0, len(numbers), 2)), default=-1) + 1
    packet.pages.extend(sheet.pages)  # qpdf copies each foreign object once, so /Pg keys map
    for page in packet.pages[-len(sheet.pages):]:
        if "/StructParents" in page.obj:
            page.obj.StructParents = int(page.obj.StructParents) + offset
        for annotation in page.obj.get("/Annots", []):
            if "/StructParent" in annotation:
                annotation.StructParent = int(annotation.StructParent) + offset
    their_numbers = theirs.ParentTree.Nums
    for i in range(0, len(their_numbers), 2):
        numbers.append(int(their_numbers[i]) + offset)
        numbers.append(_copy(packet, sheet, their_numbers[i + 1]))
    if "/ParentTreeNextKey" in tree or "/ParentTreeNextKey" in theirs:
        tree.ParentTreeNextKey = max(int(numbers[i]) for i in range(0, len(numbers), 2)) + 1
    document = _document_element(tree)
    kids = document.K if isinstance(document.K, pikepdf.Array) else pikepdf.Array([document.K])
    for element in _kids(_document_element(theirs)):
        copied = _copy(packet, sheet, element)
        copied.P = document
        kids.append(copied)
    document.K = kids


def _copy(packet: pikepdf.Pdf, sheet: pikepdf.Pdf, value):
    """A copy of the sheet's object in the packet (qpdf copies only indirect objects)."""
    if not value.is_indirect:
        value = sheet.make_indirect(value)
    return packet.copy_foreign(value)


def _document_element(tree: Dictionary) -> Dictionary:
    kids = tree.K
    return kids[0] if isinstance(kids, pikepdf.Array) else kids


def _kids(element: Dictionary) -> list:
    kids = element.get("/K")
    return [] if kids is None else list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _outline_of(sheet: pikepdf.Pdf, first_page: int) -> OutlineItem:
    """The sheet's title as a bookmark to its first page, its own bookmarks under it."""
    with sheet.open_outline() as tree:
        items = list(tree.root)
    title = str(sheet.docinfo.get(Name.Title, "")) or "Sheet"
    pages = {page.objgen: number for number, page in enumerate(sheet.pages)}
    top = OutlineItem(title, first_page)
    for item in items:  # WeasyPrint's outline: the title (h1), its sections under it
        top.children.extend(_moved(child, pages, first_page) for child in (item.children or [item]))
    return top


def _moved(item: OutlineItem, pages: dict, first_page: int) -> OutlineItem:
    destination = item.destination
    page = destination[0] if isinstance(destination, pikepdf.Array) and len(destination) else None
    number = pages.get(page.objgen, 0) if isinstance(page, Dictionary) else 0
    moved = OutlineItem(item.title, first_page + number)
    moved.children.extend(_moved(child, pages, first_page) for child in item.children)
    return moved
