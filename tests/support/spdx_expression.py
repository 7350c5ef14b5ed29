#!/usr/bin/env python3
"""SPDX licence expressions in SBOMs (SPDX 2.3 annex D), checked offline.

Usage:
  spdx_expression.py check SCHEMA_DIR DOC
      Every licence expression of DOC, an SPDX 2.3 or a CycloneDX 1.5 JSON
      document (packages' licenseDeclared and licenseConcluded, files'
      licenseConcluded and licenseInfoInFiles; components' licenses[]
      expression or license.id), parses; names only ids of the SPDX licence
      list (SCHEMA_DIR/spdx.schema.json's enum: licences and exceptions, an
      exception only after WITH) or LicenseRef-IDSTRING; and, in an SPDX
      document, each LicenseRef is defined by hasExtractedLicensingInfos, as
      SPDX 2.3 clause 10 asks (the SPDX project's validator, spdx-tools,
      reports "Unrecognized license reference" otherwise).
  spdx_expression.py same EXPR1 EXPR2
      The two expressions mean the same: WITH binds tightest, then AND, then
      OR; compared as sets of alternatives, each a set of licences.

Exit status: 0 yes, 10 no (each reason printed), 2 a usage error.
"""
import json
import os
import re
import sys

IDSTRING = re.compile(r"^[A-Za-z0-9.\-]+$")


class ParseError(Exception):
    pass


def tokens(text):
    return re.findall(r"\(|\)|[^\s()]+", text)


def parse(text):
    """The expression as a set of alternatives (frozensets of atoms); an atom
    is ("ID", EXCEPTION-or-None). Raises ParseError."""
    toks = tokens(text)
    at = 0

    def peek():
        return toks[at] if at < len(toks) else None

    def take():
        nonlocal at
        if at >= len(toks):
            raise ParseError("ends early: " + text)
        at += 1
        return toks[at - 1]

    def or_expr():
        alts = and_expr()
        while peek() in ("OR", "or"):
            take()
            alts = alts | and_expr()
        return alts

    def and_expr():
        alts = with_expr()
        while peek() in ("AND", "and"):
            take()
            right = with_expr()
            alts = {a | b for a in alts for b in right}
        return alts

    def with_expr():
        if peek() == "(":
            take()
            alts = or_expr()
            if take() != ")":
                raise ParseError("no ) in " + text)
            return alts
        lic = take()
        if lic in ("AND", "OR", "WITH", "and", "or", "with", ")"):
            raise ParseError("a licence expected, %r found in %s" % (lic, text))
        exc = None
        if peek() in ("WITH", "with"):
            take()
            exc = take()
        return {frozenset([(lic, exc)])}

    result = or_expr()
    if at != len(toks):
        raise ParseError("left over %r in %s" % (toks[at:], text))
    return frozenset(result)


def atoms(alts):
    return {atom for alt in alts for atom in alt}


def check(schema_dir, doc_path):
    with open(os.path.join(schema_dir, "spdx.schema.json")) as f:
        known = set(json.load(f)["enum"])
    known_lower = {k.lower() for k in known}
    with open(doc_path) as f:
        doc = json.load(f)
    problems = []
    spdx = "spdxVersion" in doc
    defined = {e.get("licenseId") for e in doc.get("hasExtractedLicensingInfos", [])}
    exprs = []  # (where, expression)
    if spdx:
        for p in doc.get("packages", []):
            for key in ("licenseDeclared", "licenseConcluded"):
                if key in p:
                    exprs.append(("package %s %s" % (p.get("name"), key), p[key]))
        for fl in doc.get("files", []):
            if "licenseConcluded" in fl:
                exprs.append(("file %s licenseConcluded" % fl.get("fileName"), fl["licenseConcluded"]))
            for e in fl.get("licenseInfoInFiles", []):
                exprs.append(("file %s licenseInfoInFiles" % fl.get("fileName"), e))
    else:
        comps = list(doc.get("components", []))
        if "component" in doc.get("metadata", {}):
            comps.append(doc["metadata"]["component"])
        for c in comps:
            for lic in c.get("licenses", []):
                where = "component %s" % c.get("name")
                if "expression" in lic:
                    exprs.append((where, lic["expression"]))
                elif "id" in lic.get("license", {}):
                    if lic["license"]["id"] not in known:
                        problems.append("%s: licence id %s is not on the SPDX list" % (where, lic["license"]["id"]))
    refs_used = set()
    for where, text in exprs:
        if spdx and text in ("NOASSERTION", "NONE"):
            continue
        try:
            alts = parse(text)
        except ParseError as e:
            problems.append("%s: %s" % (where, e))
            continue
        for lic, exc in atoms(alts):
            base = lic[:-1] if lic.endswith("+") and not lic.startswith("LicenseRef-") else lic
            ref = re.sub(r"^DocumentRef-[A-Za-z0-9.\-]+:", "", base)
            if ref.startswith("LicenseRef-"):
                if not IDSTRING.match(ref[len("LicenseRef-"):] or "!"):
                    problems.append("%s: %s is not LicenseRef-IDSTRING" % (where, ref))
                refs_used.add(ref)
            elif base.lower() not in known_lower:
                problems.append("%s: %s is neither on the SPDX list nor a LicenseRef" % (where, lic))
            if exc is not None and exc.lower() not in known_lower and not exc.startswith("AdditionRef-"):
                problems.append("%s: exception %s is not on the SPDX list" % (where, exc))
    if spdx:
        for ref in sorted(refs_used - defined):
            problems.append("%s is used but not defined in hasExtractedLicensingInfos" % ref)
    for p in problems:
        print(p)
    print("%d expressions, %d LicenseRefs, %d problems" % (len(exprs), len(refs_used), len(problems)))
    return 10 if problems else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "same":
        try:
            a, b = parse(argv[2]), parse(argv[3])
        except ParseError as e:
            print(e)
            return 10
        if a == b:
            return 0
        print("%r means %s; %r means %s" % (argv[2], sorted(map(sorted, a)), argv[3], sorted(map(sorted, b))))
        return 10
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
