"""pdftags: what a screen reader needs from the PDF beyond WeasyPrint's own tagging.

WeasyPrint (``pdf_tags=True``) writes the structure tree from the HTML: headings, lists,
tables with header cells, the timeline figure with its ``<title>`` as alternate text,
links, the language and ``DisplayDocTitle``. Two things it leaves out, which PDF/UA
asks for and which :func:`finisher` adds through ``write_pdf(finisher=...)``, its
public post-processing hook:

* a ``/Scope`` on each header cell (``/Row`` or ``/Column``), taken from the header
  associations WeasyPrint itself made from the HTML's ``scope`` attributes: a header
  cell named by a data cell of its own row is a row header;
* a description (``/Contents``) on each link annotation: the accessible name of the
  HTML link it came from (its ``aria-label``, else its text), not WeasyPrint's default
  of the bare target (``note-3``);
* running heads, page numbers and the marking on each page's margins as artifacts
  (``/Artifact <</Type /Pagination>> BDC``): WeasyPrint tags them as spans hanging
  from the document without being among its children, which screen readers cannot
  reach and validators flag as orphaned;
* a caption only where PDF has captions (tables, figures, lists): the timeline's key,
  an HTML ``<figcaption>`` beside the graphic, is a paragraph;
* list structure as PDF defines it: a list item's content in one ``/LBody`` (WeasyPrint
  makes one only for an item's inline text, so the paragraphs of a judgment sat
  directly in its ``/LI``), and a list holding only items (the ``<div>`` that HTML
  allows around a ``<dt>``/``<dd>`` pair is replaced by what it holds).

Only structure elements change; the marked content and the parent tree that points
at it are left as WeasyPrint wrote them.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pydyf
from selectolax.lexbor import LexborHTMLParser

_SPACE = re.compile(r"\s+")
_ID = re.compile(r"^[A-Za-z][\w.:-]*$")


def link_names(html: str) -> dict[str, str]:
    """Each link target of the page (``#id`` without the ``#``, or the URL) to a
    description of the links to it that print (links inside the on-screen evidence
    pop-ups don't): their accessible name (``aria-label``, else text) when they all
    share it; else the part all their names share, up to a comma ("ECSS, 6 Feb 2024"
    for "ECSS, 6 Feb 2024, para. 4" and "..., para. 21"); else the text of what they
    lead to. (A PDF link annotation knows its target, not which HTML link made it.)"""
    tree = LexborHTMLParser(html)
    found: dict[str, list[str]] = {}
    for a in tree.css("a[href]"):
        href = a.attributes.get("href") or ""
        target = href[1:] if href.startswith("#") else href
        if not target or _inside_popup(a):
            continue
        name = a.attributes.get("aria-label") or _SPACE.sub(" ", a.text(deep=True, separator=" ")).strip()
        if name:
            found.setdefault(target, []).append(name)
    names = {}
    for target, said in found.items():
        if len(set(said)) == 1:
            names[target] = said[0]
            continue
        shared = os.path.commonprefix(said)
        if shared in said or ", " in shared:
            names[target] = shared if shared in said else shared[: shared.rindex(", ")]
            continue
        words = shared.rsplit(" ", 1)[0] if " " in shared else ""
        if len(words.split()) >= 2:  # "Back to citation 1 of note 5", "... 2 of note 9": "Back to citation"
            names[target] = words
            continue
        names[target] = f"Go to: {_describe(tree, target) or said[0]}"
    return names


def _describe(tree: LexborHTMLParser, target: str) -> str:
    """What the element with id ``target`` is: its first heading, else its opening words
    (evidence pop-ups left out)."""
    node = tree.css_first(f'[id="{target}"]') if _ID.match(target) else None
    if node is None:
        return ""
    heading = node.css_first("h1, h2, h3, h4, h5, h6")
    for hidden in (heading or node).css("details"):
        hidden.decompose()
    text = _SPACE.sub(" ", (heading or node).text(deep=True, separator=" ")).strip()
    return text if len(text) <= 80 else text[:80].rsplit(" ", 1)[0] + "…"


def _inside_popup(node: Any) -> bool:
    parent = node.parent
    while parent is not None:
        if "ev-body" in (parent.attributes.get("class") or "").split():
            return True
        parent = parent.parent
    return False


def _number(reference: object) -> int | None:
    """The object number of a pydyf reference (``b"12 0 R"``)."""
    if isinstance(reference, bytes | str):
        head = reference.split()[0]
        return int(head)
    return None


def finisher(html: str) -> Callable[[Any, pydyf.PDF], None]:
    """A ``write_pdf`` finisher for the PDF of ``html``."""
    names = link_names(html)

    def finish(_document: Any, pdf: pydyf.PDF) -> None:
        _describe_links(pdf, names)
        _scope_header_cells(pdf)
        _lists_as_pdf_defines_them(pdf)
        _page_furniture_as_artifacts(pdf)
        _captions_where_pdf_allows_them(pdf)

    return finish


def _struct_elements(pdf: pydyf.PDF, tag: str) -> list[pydyf.Dictionary]:
    return [
        o
        for o in pdf.objects
        if isinstance(o, pydyf.Dictionary) and o.get("Type") == "/StructElem" and o.get("S") == tag
    ]


def _describe_links(pdf: pydyf.PDF, names: dict[str, str]) -> None:
    for obj in pdf.objects:
        if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Annot" and obj.get("Subtype") == "/Link":
            target = obj.get("Dest")
            if target is None and isinstance(obj.get("A"), pydyf.Dictionary):
                target = obj["A"].get("URI")
            name = names.get(target.string) if isinstance(target, pydyf.String) else None
            if name:
                obj["Contents"] = pydyf.String(name)


def _scope_header_cells(pdf: pydyf.PDF) -> None:
    rows_naming: dict[int, set[int | None]] = defaultdict(set)  # header id -> rows of the data cells naming it
    for td in _struct_elements(pdf, "/TD"):
        for key in td.get("A", {}).get("Headers", ()):
            rows_naming[id(key)].add(_number(td.get("P")))
    for th in _struct_elements(pdf, "/TH"):
        key = th.get("ID")
        own_row = key is not None and _number(th.get("P")) in rows_naming.get(id(key), ())
        th.setdefault("A", pydyf.Dictionary({"O": "/Table"}))["Scope"] = "/Row" if own_row else "/Column"


def _deref(pdf: pydyf.PDF, ref: object) -> Any:
    """The object a pydyf reference (``b"12 0 R"``) names; None for anything else."""
    n = _number(ref)
    return pdf.objects[n] if n is not None else None


def _lists_as_pdf_defines_them(pdf: pydyf.PDF) -> None:
    def element(ref: object) -> pydyf.Dictionary | None:
        obj = _deref(pdf, ref)
        return obj if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/StructElem" else None

    for lst in _struct_elements(pdf, "/L"):
        kids = pydyf.Array()
        for ref in lst["K"]:
            kid = element(ref)
            if kid is not None and kid["S"] not in ("/LI", "/L", "/Caption") and all(element(k) for k in kid["K"]):
                for grandchild in kid["K"]:
                    element(grandchild)["P"] = lst.reference  # type: ignore[index]
                    kids.append(grandchild)
            else:
                kids.append(ref)
        lst["K"] = kids
    for item in _struct_elements(pdf, "/LI"):
        labels: list[object] = []
        rest: list[object] = []
        for ref in item["K"]:
            kid = element(ref)
            # (a marked-content id stays with the element that owns it in the parent tree)
            (labels if kid is None or kid["S"] == "/Lbl" else rest).append(ref)
        if all(element(ref)["S"] == "/LBody" for ref in rest):  # type: ignore[index]
            continue
        body = pydyf.Dictionary(
            {"Type": "/StructElem", "S": "/LBody", "K": pydyf.Array(), "Pg": item["Pg"], "P": item.reference}
        )
        pdf.add_object(body)
        for ref in rest:
            kid = element(ref)
            assert kid is not None
            # An LBody WeasyPrint made for part of the item is merged into the one body.
            whole = kid["S"] == "/LBody" and all(element(k) is not None for k in kid["K"])
            for moved in kid["K"] if whole else [ref]:
                element(moved)["P"] = body.reference  # type: ignore[index]
                body["K"].append(moved)
        item["K"] = pydyf.Array([*labels, body.reference])


def _page_furniture_as_artifacts(pdf: pydyf.PDF) -> None:
    def get(ref: object) -> Any:
        return _deref(pdf, ref)

    root = get(pdf.catalog["StructTreeRoot"])
    reachable: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        for kid in node.get("K", ()) if isinstance(node.get("K"), list) else ():
            child = get(kid) if isinstance(kid, bytes | str) else None
            if isinstance(child, pydyf.Dictionary) and child.number not in reachable:
                reachable.add(child.number)
                stack.append(child)
    # Marked content owned by an element no one can reach: page furniture.
    furniture: dict[int, set[int]] = defaultdict(set)  # page object number -> MCIDs
    for elem in _struct_elements(pdf, "/Span") + _struct_elements(pdf, "/NonStruct"):
        if elem.number not in reachable and "Pg" in elem:
            for kid in elem["K"]:
                if isinstance(kid, int):
                    furniture[_number(elem["Pg"]) or 0].add(kid)
    if not furniture:
        return
    pages = list(get(pdf.catalog["Pages"])["Kids"][0::3])  # (pydyf keeps them as number, 0, "R")
    nums = get(root["ParentTree"])["Nums"]
    for page_number, mcids in furniture.items():
        content = get(pdf.objects[page_number]["Contents"])
        items = content.stream
        for i in range(1, len(items) - 1):
            item = items[i]
            if isinstance(item, pydyf.Dictionary) and item.get("MCID") in mcids and items[i + 1] == b"BDC":
                items[i - 1], items[i] = "/Artifact", pydyf.Dictionary({"Type": "/Pagination"})
        # The parent tree lists a page's elements by MCID: an artifact has none.
        owners = nums[2 * pages.index(page_number) + 1]
        for mcid in mcids:
            if mcid < len(owners):
                owners[mcid] = b"null"


def _captions_where_pdf_allows_them(pdf: pydyf.PDF) -> None:
    for caption in _struct_elements(pdf, "/Caption"):
        parent = _deref(pdf, caption["P"])
        if not (isinstance(parent, pydyf.Dictionary) and parent.get("S") in ("/Table", "/Figure", "/L")):
            caption["S"] = "/P"
