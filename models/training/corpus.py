"""The training corpus: the King James Bible (public domain) as Debian's `bible-kjv` package prints it.

Chapters are split deterministically: every 20th chapter is held out and never trained on.
"""
import re
import subprocess

HELD_OUT_EVERY = 20


def chapters():
    """Yields (title, [verse, ...]) for every chapter, in canonical order."""
    text = subprocess.run(["bible", "-l10000", "gen1:1-rev22:21"], check=True, capture_output=True, text=True).stdout
    title, verses = None, []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = re.match(r"^\s+(\d+) (.*)$", line)
        if m:
            verses.append(m.group(2).strip())
        elif line.startswith(" ") and verses:
            verses[-1] += " " + line.strip()
        else:
            if title is not None:
                yield title, verses
            title, verses = line.strip(), []
    if title is not None:
        yield title, verses


def split():
    """Returns (train, held_out): lists of chapters."""
    train, held_out = [], []
    for i, chapter in enumerate(chapters()):
        (held_out if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else train).append(chapter)
    return train, held_out


def chapter_text(chapter):
    return " ".join(chapter[1])


if __name__ == "__main__":
    # python3 corpus.py OUT.txt: the held-out chapters as plain text, one chapter a paragraph.
    import sys

    _, held = split()
    with open(sys.argv[1], "w") as f:
        f.write("\n\n".join(chapter_text(c) for c in held) + "\n")
