"""Finish WeasyPrint's tagged PDF/UA-1 output: what it leaves wrong for a screen reader.

WeasyPrint 70 builds the structure tree page by page, from the boxes on each page. These things
come out wrong, and this post-pass (pikepdf) puts them right:

- **Page furniture.** The text of page-margin boxes (running header, footer, page numbers) is
  marked content that no structure element reaches (PDF 1.7 has no artifact elements). It is
  rewritten as ``/Artifact``.
- **Repeats.** A fixed box (the draft band) is drawn on every page and tagged on every page, so
  it is read out once per page, between two list items if a list crosses the break. The first
  page's copy stays in the tree; a later page's element whose marked content repeats the first
  page's, mark for mark, becomes an artifact.
- **Continuations.** An element that crosses a page break becomes two elements, one per page:
  two ``L`` for one list, two ``LI`` for one item (the second without its ``Lbl``). The pieces
  are joined again: the document's ``main`` (``Part``), lists, tables, a labelled list item
  whose next page's piece has no label, and a box (a call-out) whose list goes on. Items
  without bullets are kept whole by the styles. Markdown never writes two lists of one kind
  back to back, so two ``L`` meeting at a page break are one list. Paragraphs are left as they
  are: nothing in the PDF tells a paragraph that goes on from a new one.
- **Tables.** The header row repeated on each page is a second ``THead`` in the tree, and
  ``TH`` cells have no ``/Scope``: the repeats leave the tree, the body pieces join, and each
  header cell gets ``/Scope /Column``. Cells on a page the header row does not reach again (a
  table printed as blocks) name the header cell of their column.
- **List items with blocks.** A paragraph inside a list item (a footnote) sits straight under
  the ``LI``: it is wrapped in an ``LBody``.
- **Word spaces.** A line break drops the space between two words, so the tagged text reads
  "ketaminetreatment". ISO 32000-1, 14.8.2.5 asks for an explicit space: a space glyph is added
  at the end of every line that goes on in the same block (not after a hyphen). It has no ink.

One thing cannot wait for the post-pass, since the PDF no longer says which element a passage
came from: WeasyPrint 70 writes the document's language only (the catalog's ``/Lang``), so a
passage in another language (the bilingual edition's) would be read out with the wrong voice.
``tag_passage_languages`` has each structure element take the ``lang`` of its HTML element.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pikepdf

BDC, BMC, EMC = pikepdf.Operator("BDC"), pikepdf.Operator("BMC"), pikepdf.Operator("EMC")
TJ, Tj, Tf, Tm = (pikepdf.Operator(name) for name in ("TJ", "Tj", "Tf", "Tm"))

#: Elements that are the same element when two pieces meet at a page break.
CONTINUED = {"/Part", "/L", "/Table", "/TBody", "/LBody"}
#: Boxes that are the same box when what they hold on both sides of the break is one element
#: (a call-out whose list goes on); two paragraphs meeting at a break cannot be told apart.
CONTAINERS = {"/Div", "/Sect", "/BlockQuote", "/NonStruct", "/Art"}
#: Elements inside a block of text: their lines belong to the block around them.
INLINE = {"/Span", "/NonStruct", "/Link", "/Lbl"}
#: A line that ends with one of these goes on without a space ("Treatment-" "resistant").
NO_SPACE_AFTER = {" ", "\u00a0", "-", "\u2010", "\u00ad", "/"}


@dataclass
class _Marked:
    """One marked-content sequence of a page: where its operators are, how it starts."""

    begin: int  # index of its BDC
    end: int  # index of its EMC
    y: float | None = None  # baseline of its first text
    size: float = 0.0
    last_show: int | None = None  # index of its last TJ or Tj
    last_font: pikepdf.Name | None = None


@dataclass
class _Page:
    page: pikepdf.Page
    # As parsed, so that unchanged instructions are written back without being rebuilt
    # (rebuilding every instruction of a page cost more than the rest of the pass).
    instructions: list[pikepdf.ContentStreamInstruction]
    marked: dict[int, _Marked] = field(default_factory=dict)
    changed: bool = False


def finish_tagging(data: bytes) -> bytes:
    """The same PDF with its tagging finished: furniture and repeats as artifacts, pieces of one
    element joined across page breaks, and a space at the end of every line that goes on."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        tree = pdf.Root.StructTreeRoot
        pages = [_read_page(page) for page in pdf.pages]
        page_of = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}
        parents = _parent_tree(tree)
        for document in _kids(tree):
            _detach_repeats(document, pages, page_of)
            _join_continuations(document, page_of, parents)
            _finish_tables(document, parents)
            _wrap_item_bodies(pdf, document, parents)
        _add_word_spaces(pdf, tree, pages, page_of)
        _mark_orphans_as_artifacts(pdf, tree, pages, parents)
        for page in pages:
            if page.changed:
                page.page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(page.instructions))
        output = io.BytesIO()
        # Same inputs, same bytes: the /ID is derived from the content, never from the clock.
        pdf.save(output, deterministic_id=True, compress_streams=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return output.getvalue()


#: The name the printing stage has called this by since it only marked page furniture.
mark_page_furniture_as_artifacts = finish_tagging


def tag_passage_languages() -> None:
    """Give every structure element made from an HTML element with a ``lang`` attribute that
    language as its ``/Lang`` (ISO 32000-1, 14.9.2): its content and children are in it."""
    import pydyf
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf import tags

    build_box_tree = tags._build_box_tree
    if getattr(build_box_tree, "tags_languages", False):
        return

    def with_languages(box, *args):
        element = getattr(box, "element", None)
        own = (element is not None and getattr(box, "element_tag", None) not in ("html", "body")
               and not isinstance(box, (boxes.PageBox, boxes.MarginBox)))
        lang = element.get("lang") if own else None
        for structure_element in build_box_tree(box, *args):
            if lang and "Lang" not in structure_element:
                structure_element["Lang"] = pydyf.String(lang)
            yield structure_element

    with_languages.tags_languages = True
    tags._build_box_tree = with_languages


# Reading the pages.

def _read_page(page: pikepdf.Page) -> _Page:
    """The page's operators, and each marked-content sequence's place and first baseline."""
    instructions = pikepdf.parse_content_stream(page)
    result = _Page(page, instructions)
    open_sequences: list[int | None] = []  # MCID (or None for BMC / no MCID) per nesting level
    font = marked = None  # the current font; the innermost open sequence with an MCID
    # Operators compared by name: a page has hundreds, and a string compares faster than an
    # Operator, which calls into the PDF library; operands are read only where they are needed.
    for index, name in enumerate([str(instruction.operator) for instruction in instructions]):
        if name in ("BDC", "BMC"):
            operands = instructions[index].operands
            mcid = None
            if name == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]:
                mcid = int(operands[1].MCID)
                result.marked[mcid] = _Marked(begin=index, end=index)
            open_sequences.append(mcid)
            marked = _innermost(result, open_sequences)
        elif name == "EMC" and open_sequences:
            mcid = open_sequences.pop()
            if mcid is not None:
                result.marked[mcid].end = index
            marked = _innermost(result, open_sequences)
        elif name == "Tf":
            operands = instructions[index].operands
            font = operands[0]
            if marked is not None and not marked.size:
                marked.size = float(operands[1])
        elif marked is None:
            continue
        elif name == "Tm" and marked.y is None:
            marked.y = float(instructions[index].operands[5])
        elif name in ("TJ", "Tj"):
            marked.last_show, marked.last_font = index, font
    return result


def _innermost(page: _Page, open_sequences: list[int | None]) -> _Marked | None:
    mcid = next((m for m in reversed(open_sequences) if m is not None), None)
    return None if mcid is None else page.marked[mcid]


def _kids(element) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    # as_list copies the array in one call, not one call per item as list() does.
    return kids.as_list() if isinstance(kids, pikepdf.Array) else [kids]


def _is_element(kid) -> bool:
    return isinstance(kid, pikepdf.Dictionary) and "/S" in kid


def _parent_tree(tree: pikepdf.Dictionary) -> dict:
    """StructParents key -> the page's array of MCID owners (or an annotation's owner); and
    under "nums", the parent tree's own array, to change an annotation's owner in."""
    numbers = tree.ParentTree.Nums
    parents: dict = {int(numbers[i]): numbers[i + 1] for i in range(0, len(numbers), 2)}
    parents["nums"] = numbers
    return parents


def _marked_content(element, page_of, page=None):
    """(page number, MCID) of every marked-content sequence under ``element``, in order."""
    if "/Pg" in element:
        page = page_of.get(element.Pg.objgen, page)
    for kid in _kids(element):
        if _is_element(kid):
            yield from _marked_content(kid, page_of, page)
        elif isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid:  # a marked-content reference
            yield page_of.get(kid.Pg.objgen, page) if "/Pg" in kid else page, int(kid.MCID)
        elif not isinstance(kid, pikepdf.Dictionary):
            yield page, int(kid)


# Repeats of fixed boxes.

def _detach_repeats(document, pages: list[_Page], page_of) -> None:
    """Leave out of the tree each later page's element that repeats first-page marked content."""
    first = {_signature(pages[0], mcid) for mcid in pages[0].marked}
    kept = []
    for kid in _kids(document):
        content = list(_marked_content(kid, page_of)) if _is_element(kid) else []
        repeated = content and all(page > 0 and _signature(pages[page], mcid) in first
                                   for page, mcid in content)
        if not repeated:
            kept.append(kid)
    document.K = pikepdf.Array(kept)


def _signature(page: _Page, mcid: int) -> bytes:
    """What a marked-content sequence draws, without its own BDC (whose MCID differs)."""
    marked = page.marked.get(mcid)
    if marked is None:
        return b""
    return pikepdf.unparse_content_stream(page.instructions[marked.begin + 1:marked.end])


# Pieces of one element on two pages.

def _join_continuations(element, page_of, parents) -> None:
    joined = []
    for kid in _kids(element):
        if joined and _continues(joined[-1], kid, page_of):
            _absorb(joined[-1], kid, parents)
        elif (element.S == "/Document" and len(joined) > 1 and _is_element(joined[-1])
              and _first_page(joined[-1], page_of) > _first_page(joined[-2], page_of)
              and _continues(joined[-2], kid, page_of)):
            # The rest of a float that went on to the next page comes out at the top, between
            # the two pieces of the element around it: it is read after that element instead.
            _absorb(joined[-2], kid, parents)
        else:
            joined.append(kid)
    if "/K" in element and len(joined) != len(_kids(element)):
        element.K = pikepdf.Array(joined)
    for kid in joined:
        if _is_element(kid):
            _join_continuations(kid, page_of, parents)


def _continues(before, after, page_of) -> bool:
    """Is ``after`` the next page's piece of ``before``?"""
    if not (_is_element(before) and _is_element(after)) or before.S != after.S:
        return False
    kind = str(after.S)
    # Walking the pages of ``before`` costs most: only a kind of element that can go on is walked.
    if kind not in CONTINUED and kind not in CONTAINERS and kind != "/LI":
        return False
    if _first_page(after, page_of) <= _last_page(before, page_of):
        return False
    if kind == "/LI":  # the next page's piece of a labelled item carries no label
        return _labelled(before) and not _labelled(after)
    if kind in CONTAINERS:  # a box is continued when what it holds is continued
        before_kids, after_kids = _kids(before), _kids(after)
        return bool(before_kids and after_kids) and _continues(before_kids[-1], after_kids[0], page_of)
    return True  # one of CONTINUED


def _labelled(item) -> bool:
    first = next(iter(_kids(item)), None)
    return _is_element(first) and first.S == "/Lbl"


def _first_page(element, page_of) -> int:
    return page_of.get(element.Pg.objgen, -1) if "/Pg" in element else -1


def _last_page(element, page_of) -> int:
    pages = [_first_page(element, page_of)]
    pages += [_last_page(kid, page_of) for kid in _kids(element) if _is_element(kid)]
    return max(pages)


def _absorb(element, piece, parents) -> None:
    """Move the kids of ``piece`` (the next page's part of ``element``) into ``element``."""
    kids = _kids(element)
    for kid in _kids(piece):
        if _is_element(kid):
            kid.P = element
        elif not isinstance(kid, pikepdf.Dictionary):  # a bare MCID belongs to piece's page
            kid = pikepdf.Dictionary(Type=pikepdf.Name.MCR, Pg=piece.Pg, MCID=int(kid))
            _set_owner(parents, piece.Pg, int(kid.MCID), element)
        elif kid.get("/Type") == "/OBJR" and "/StructParent" in kid.Obj:  # a link's annotation
            _set_annotation_owner(parents, int(kid.Obj.StructParent), element)
        kids.append(kid)
    element.K = pikepdf.Array(kids)


def _set_annotation_owner(parents, key: int, element) -> None:
    numbers = parents["nums"]
    for index in range(0, len(numbers), 2):
        if int(numbers[index]) == key:
            numbers[index + 1] = element


def _set_owner(parents, page_object, mcid: int, element) -> None:
    owners = parents.get(int(page_object.get("/StructParents", -1)))
    if isinstance(owners, pikepdf.Array) and mcid < len(owners):
        owners[mcid] = element


# Tables.

def _finish_tables(element, parents) -> None:
    """Every table in the tree, finished: see _finish_table."""
    for kid in _kids(element):
        if _is_element(kid):
            if kid.S == "/Table":
                _finish_table(kid, parents)
            else:
                _finish_tables(kid, parents)


def _finish_table(table, parents) -> None:
    """WeasyPrint 70 tags a table page by page: the header row it repeats on each page is a
    ``THead`` of its own there (PDF/UA-1 allows one), between the pieces of the body, and its
    ``TH`` cells carry no ``/Scope``. The repeats leave the tree (so their marks become
    artifacts), the body is one ``TBody``, each data cell names the first header's cells, and
    every header cell heads its column (see also _name_column_headers)."""
    head, renamed, groups = None, {}, []
    for group in _kids(table):
        if _is_element(group) and group.S == "/THead":
            if head is not None:
                renamed.update(zip(_cell_ids(group), _cell_ids(head)))
                continue  # a repeat: read once, at the top
            head = group
        if groups and _is_element(group) and group.S == "/TBody" and groups[-1].get("/S") == "/TBody":
            _absorb(groups[-1], group, parents)
            continue
        groups.append(group)
    table.K = pikepdf.Array(groups)
    for cell in _cells(table):
        attributes = _table_attributes(cell)
        if cell.S == "/TH" and "/Scope" not in attributes:
            attributes.Scope = pikepdf.Name.Column
        if "/Headers" in attributes:
            attributes.Headers = pikepdf.Array([pikepdf.String(renamed.get(str(id_), str(id_)))
                                                for id_ in attributes.Headers])
    if head is not None:
        _name_column_headers(groups, _cell_ids(head))


def _name_column_headers(groups, columns: list[str]) -> None:
    """A table printed as blocks (styles/print.css) prints its header row once: WeasyPrint
    leaves the cells of its later pages without headers. Each gets its column's header cell."""
    bodies = [group for group in groups if _is_element(group) and group.S == "/TBody"]
    for row in (row for body in bodies for row in _kids(body) if _is_element(row)):
        for column, cell in zip(columns, [cell for cell in _kids(row) if _is_element(cell)]):
            attributes = _table_attributes(cell)
            if column and cell.S == "/TD" and not len(attributes.get("/Headers", ())):
                attributes.Headers = pikepdf.Array([pikepdf.String(column)])


def _cells(element):
    for kid in _kids(element):
        if _is_element(kid):
            if kid.S in ("/TH", "/TD"):
                yield kid
            else:
                yield from _cells(kid)


def _cell_ids(group) -> list[str]:
    return [str(cell.ID) if "/ID" in cell else "" for cell in _cells(group)]


def _table_attributes(cell) -> pikepdf.Dictionary:
    """The cell's ``/A`` dictionary of the Table owner (made when it has none)."""
    owned = cell.get("/A")
    for attributes in (owned if isinstance(owned, pikepdf.Array) else [owned]):
        if isinstance(attributes, pikepdf.Dictionary) and attributes.get("/O") == "/Table":
            return attributes
    attributes = pikepdf.Dictionary(O=pikepdf.Name.Table)
    cell.A = pikepdf.Array([*owned, attributes]) if isinstance(owned, pikepdf.Array) else (
        pikepdf.Array([owned, attributes]) if isinstance(owned, pikepdf.Dictionary) else attributes)
    return attributes


# List items that hold blocks.

def _wrap_item_bodies(pdf: pikepdf.Pdf, element, parents) -> None:
    """An ``LI`` holds only ``Lbl`` and ``LBody`` (PDF/UA-1), but WeasyPrint puts a list item's
    paragraph (a footnote's, say) straight under the ``LI``: it goes into an ``LBody``."""
    for kid in _kids(element):
        if not _is_element(kid):
            continue
        if kid.S == "/LI":
            loose = [item for item in _kids(kid) if not (_is_element(item) and item.S in ("/Lbl", "/LBody"))]
            if loose:
                body = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem,
                                                            S=pikepdf.Name.LBody, P=kid, K=pikepdf.Array()))
                if "/Pg" in kid:
                    body.Pg = kid.Pg
                piece = pikepdf.Dictionary(K=pikepdf.Array(loose))
                if "/Pg" in kid:
                    piece.Pg = kid.Pg
                _absorb(body, piece, parents)
                kid.K = pikepdf.Array([item for item in _kids(kid) if _is_element(item)
                                       and item.S == "/Lbl"] + [body])
        _wrap_item_bodies(pdf, kid, parents)


# Spaces at line ends.

def _add_word_spaces(pdf: pikepdf.Pdf, tree, pages: list[_Page], page_of) -> None:
    """A space glyph after the last word of each line that the same block goes on from."""
    fonts: dict[tuple[int, str], dict[bytes, str]] = {}
    for block in _blocks(tree):
        sequence = [(page, mcid) for page, mcid in _block_content(block, page_of)
                    if page is not None and mcid in pages[page].marked]
        for (page, mcid), (next_page, next_mcid) in zip(sequence, sequence[1:]):
            line, following = pages[page].marked[mcid], pages[next_page].marked[next_mcid]
            if line.last_show is None or following.y is None or line.y is None:
                continue
            same_line = next_page == page and abs(following.y - line.y) < max(line.size, 1) / 3
            if same_line:
                continue
            _append_space(pages[page], line, fonts, page)


def _blocks(element):
    """Every element that holds a block of text: not an inline one."""
    for kid in _kids(element):
        if _is_element(kid):
            if str(kid.S) not in INLINE:
                yield kid
            yield from _blocks(kid)


def _block_content(block, page_of, page=None):
    """(page, MCID) of the block's own text: inline kids included, nested blocks not."""
    if "/Pg" in block:
        page = page_of.get(block.Pg.objgen, page)
    for kid in _kids(block):
        if _is_element(kid):
            if str(kid.S) in INLINE:
                yield from _block_content(kid, page_of, page)
        elif isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid:
            yield page_of.get(kid.Pg.objgen, page) if "/Pg" in kid else page, int(kid.MCID)
        elif not isinstance(kid, pikepdf.Dictionary):
            yield page, int(kid)


def _append_space(page: _Page, line: _Marked, fonts, number: int) -> None:
    instruction = page.instructions[line.last_show]
    operands, operator = instruction.operands, instruction.operator
    font_name = line.last_font
    resources = page.page.obj.Resources.Font
    if font_name is None or font_name not in resources:
        return
    to_unicode = _to_unicode(fonts, number, font_name, resources[font_name])
    strings = [item for item in (operands[0] if operator == TJ else [operands[0]])
               if isinstance(item, pikepdf.String)]
    if not strings:
        return
    last_code = bytes(strings[-1])[-2:]
    if to_unicode.get(last_code, "")[-1:] in NO_SPACE_AFTER:
        return
    space = next((code for code, text in to_unicode.items() if text == " "), None)
    if space is None:
        space_font = next((name for name, font in resources.items()
                           if " " in _to_unicode(fonts, number, name, font).values()), None)
        if space_font is None:
            return
        space = next(code for code, text in _to_unicode(fonts, number, space_font,
                                                        resources[space_font]).items() if text == " ")
        size = line.size or 1
        page.instructions[line.last_show + 1:line.last_show + 1] = [
            pikepdf.ContentStreamInstruction([pikepdf.Name(space_font), size], Tf),
            pikepdf.ContentStreamInstruction([pikepdf.Array([pikepdf.String(space)])], TJ)]
        _shift(page, line.last_show, 2)
    elif operator == TJ:
        operands[0].append(pikepdf.String(space))  # the page's own array: changed in place
    else:
        page.instructions[line.last_show] = pikepdf.ContentStreamInstruction(
            [pikepdf.String(bytes(operands[0]) + space)], Tj)
    page.changed = True


def _shift(page: _Page, after: int, count: int) -> None:
    """Keep the recorded operator positions right after inserting ``count`` operators."""
    for marked in page.marked.values():
        for name in ("begin", "end", "last_show"):
            value = getattr(marked, name)
            if value is not None and value > after:
                setattr(marked, name, value + count)


_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_BFRANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


def _to_unicode(cache, page: int, name, font) -> dict[bytes, str]:
    """Character code -> text, from the font's /ToUnicode CMap."""
    key = font.objgen if font.objgen != (0, 0) else (page, str(name))
    if key not in cache:
        mapping: dict[bytes, str] = {}
        if "/ToUnicode" in font:
            cmap = font.ToUnicode.read_bytes()
            for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
                for low, high, start in _BFRANGE.findall(block):
                    width, first = len(low) // 2, int(start, 16)
                    for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                        mapping[code.to_bytes(width, "big")] = chr(first + offset)
            for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
                for code, text in _BFCHAR.findall(block):
                    mapping[bytes.fromhex(code.decode())] = bytes.fromhex(text.decode()).decode("utf-16-be")
        cache[key] = mapping
    return cache[key]


# Page furniture.

def _mark_orphans_as_artifacts(pdf, tree, pages: list[_Page], parents) -> None:
    """Marked content that no element of the tree reaches becomes a pagination artifact."""
    reachable = _reachable_elements(tree)
    for page in pages:
        owners = parents.get(int(page.page.obj.get("/StructParents", -1)))
        if not isinstance(owners, pikepdf.Array):
            continue
        for mcid, owner in enumerate(owners):
            if isinstance(owner, pikepdf.Dictionary) and owner.objgen in reachable:
                continue
            owners[mcid] = None  # a null: no element owns it now
            marked = page.marked.get(mcid)
            if marked is not None:
                page.instructions[marked.begin] = pikepdf.ContentStreamInstruction(
                    [pikepdf.Name.Artifact, pikepdf.Dictionary(Type=pikepdf.Name.Pagination)], BDC)
                page.changed = True


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
