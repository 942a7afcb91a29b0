"""Document-level consistency: a name tagged once is tagged at its other mentions too.

News articles repeat names ("طالباني", "Sampdoria"); the tagger, reading one sentence
at a time, finds some mentions and misses others. After tagging, every untagged
occurrence of a token sequence that was tagged as a name elsewhere in the same
document gets that name's label (majority label if it varied). Arabic first tokens
match through their proclitics (طالباني also matches وطالباني). Single lowercase
Latin words are never propagated.
"""

from __future__ import annotations

from collections import Counter

from pipeline.ner.labels import spans
from pipeline.ner.normalize import fold_arabic

MAX_TOKENS = 6


def _key(tokens: list[str]) -> tuple[str, ...]:
    return tuple(fold_arabic(t).casefold() for t in tokens)


def propagate(sents: list[list[str]], tags: list[list[str]], stem=lambda key: key) -> list[list[str]]:
    """``tags`` with names repeated across ``sents`` (one document) tagged consistently.

    ``stem`` maps a folded first token to its proclitic-free key (``Encoder.stem_key``).
    """
    votes: dict[tuple[str, ...], Counter] = {}
    for sent, sent_tags in zip(sents, tags):
        for i, j, label in spans(sent_tags):
            key = _key(sent[i:j])
            key = (stem(key[0]),) + key[1:]
            if len(key) == 1 and sent[i][:1].islower():
                continue
            votes.setdefault(key, Counter())[label] += 1
    if not votes:
        return tags
    known = {k: c.most_common(1)[0][0] for k, c in votes.items()}
    firsts = {k[0] for k in known}
    longest = max(len(k) for k in known)
    out = []
    for sent, sent_tags in zip(sents, tags):
        new = list(sent_tags)
        folded = _key(sent)
        i = 0
        while i < len(sent):
            hit = None
            if new[i] == "O" and stem(folded[i]) in firsts:
                for n in range(min(longest, MAX_TOKENS, len(sent) - i), 0, -1):
                    if any(t != "O" for t in new[i : i + n]):
                        continue
                    if i + n < len(sent) and new[i + n].startswith("I-"):
                        continue
                    key = (stem(folded[i]),) + tuple(folded[i + 1 : i + n])
                    label = known.get(key)
                    if label and not (n == 1 and sent[i][:1].islower()):
                        hit = (n, label)
                        break
            if hit:
                n, label = hit
                new[i : i + n] = [f"B-{label}"] + [f"I-{label}"] * (n - 1)
                i += n
            else:
                i += 1
        out.append(new)
    return out
