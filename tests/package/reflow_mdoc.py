#!/usr/bin/env python3
"""Rewraps the text lines of an mdoc page to at most 80 bytes (mandoc -T lint's style rule).

Macro lines and literal displays (.Bd -literal ... .Ed) are left as they are.
Usage: reflow_mdoc.py PAGE...  (in place)
"""
import sys
import textwrap

for path in sys.argv[1:]:
    out, literal = [], False
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith(".Bd") and "-literal" in line:
                literal = True
            elif line.startswith(".Ed"):
                literal = False
            if literal or line.startswith(".") or len(line.encode()) <= 80:
                out.append(line)
                continue
            out.extend(textwrap.wrap(line, width=80, break_long_words=False,
                                     break_on_hyphens=False))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
