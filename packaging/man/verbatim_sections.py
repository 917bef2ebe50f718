#!/usr/bin/env python3
"""Keeps the line breaks of some sections of a help2man page: help2man fills the lines of a
--help paragraph into one, which turns a list of command forms or examples into a wall of text.
In the sections named (by their .SH/.SS title), its paragraph macros are dropped and the text
is set unfilled (.nf), as the program prints it: a tagged paragraph's tag and text go back on
one line, a hanging one (an indented continuation) is indented again.
Usage: verbatim_sections.py PAGE TITLE..."""
import sys

page, titles = sys.argv[1], set(sys.argv[2:])
out, verbatim, pending = [], False, None  # pending: what the next text line is, after a macro
for line in open(page).read().splitlines():
    if line.startswith((".SH ", ".SS ")):
        if verbatim:
            out.append(".fi")
        out.append(line)
        verbatim = line.split(" ", 1)[1].strip('"') in titles
        if verbatim:
            out.append(".nf")
        pending = None
    elif not verbatim:
        out.append(line)
    elif line in (".IP", ".PP"):
        pending = None
    elif line == ".TP":
        pending = "tag"
    elif line == ".HP":
        pending = "hanging"
    elif pending == "tag":
        out.append(line)
        pending = "tagged text"
    elif pending == "tagged text":
        out[-1] += "   " + line
        pending = None
    elif pending == "hanging":
        out.append("    " + line)
        pending = None
    else:
        out.append(line)
if verbatim:
    out.append(".fi")
open(page, "w").write("\n".join(out) + "\n")
