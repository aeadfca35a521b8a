"""Exact and near-duplicate grouping, incremental across batches.

A post joins an existing group when its folded text (RT prefix, URLs, mentions, case,
accents and punctuation removed) is identical to one already seen ("exact"), or when the
MinHash estimate of the Jaccard similarity of its character 5-gram sets with the group's
first post reaches `threshold` ("near"). Candidates come from LSH banding with the bands
and rows datasketch's MinHashLSH chooses for the threshold (its tables, kept here as plain
dicts keyed by the band's bytes: the same candidates at a fraction of the cost per post);
the estimate is checked again so that an LSH collision alone never merges two posts.

Only each group's first post is indexed: a group cannot drift away from what it started as,
and the index grows with the number of groups, not of posts. Past `max_groups` the groups
seen least recently are forgotten (a later copy then starts a new group).

MinHash values are computed for a whole batch at once with NumPy (multiply-shift hashing
of the exact 40-bit 5-byte shingles), several times faster than hashing post by post.
`group_keys` and `sketch_batch` need no index state, so `Pipeline`'s child processes
compute them and `assign(items, prepared=...)` only looks them up.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from datasketch import MinHashLSH

from beffroi.geo.text import strip_accents
from beffroi.watch.pipeline.model import Enriched

SHINGLE = 5
# Shorter texts have too few 5-grams for a meaningful estimate: exact grouping only.
MIN_NEAR_CHARS = 24
_NON_WORD = re.compile(r"[^\w ]+")
_SPACES = re.compile(r"\s+")
STATE_VERSION = 1


def exact_key_text(text: str) -> str:
    folded = _NON_WORD.sub(" ", strip_accents(text).lower())
    return _SPACES.sub(" ", folded).strip()


def group_key(text: str) -> tuple[str, str]:
    """(folded text, its exact-copy key): what grouping compares, without index state."""
    folded = exact_key_text(text)
    return folded, hashlib.blake2b(folded.encode("utf-8"), digest_size=12).hexdigest()


def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    # datasketch picks (bands, rows) minimising false positives and negatives around
    # the threshold; asking it keeps our candidates the same as its MinHashLSH's.
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


@dataclass(frozen=True)
class PreparedKeys:
    """`group_key` and `sketch_batch` of a batch, computed away from the index."""

    keys: list[str]
    sketches: list[np.ndarray | None]


@dataclass(slots=True)
class Group:
    id: str
    size: int
    hashvalues: np.ndarray | None  # None for groups of texts too short to sketch
    exact_keys: list[str]


class DedupIndex:
    def __init__(
        self,
        *,
        threshold: float = 0.6,
        num_perm: int = 64,
        seed: int = 20130611,
        max_groups: int = 200_000,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.seed = seed
        self.max_groups = max_groups
        rng = np.random.default_rng(seed)
        self._a = rng.integers(
            0, 2**64 - 1, size=num_perm, dtype=np.uint64, endpoint=True
        ) | np.uint64(1)
        self._b = rng.integers(0, 2**64 - 1, size=num_perm, dtype=np.uint64, endpoint=True)
        self._nbands, self._rows = _bands(threshold, num_perm)
        self._tables: list[dict[bytes, list[str]]] = [{} for _ in range(self._nbands)]
        self.groups: OrderedDict[str, Group] = OrderedDict()  # least recently seen first
        self._exact: dict[str, str] = {}

    # -- sketches ---------------------------------------------------------------------
    def sketch_batch(self, texts: list[str], chunk: int = 128) -> list[np.ndarray | None]:
        """MinHash values (uint32, num_perm) of each text's 5-gram set, None if too short."""
        if len(texts) > chunk:
            # Chunks keep the (windows × permutations) array within the CPU caches.
            out: list[np.ndarray | None] = []
            for i in range(0, len(texts), chunk):
                out.extend(self._sketch_chunk(texts[i : i + chunk]))
            return out
        return self._sketch_chunk(texts)

    def _sketch_chunk(self, texts: list[str]) -> list[np.ndarray | None]:
        encoded = [t.encode("utf-8") for t in texts]
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        usable = (lengths >= max(MIN_NEAR_CHARS, SHINGLE)) & np.array(
            [len(t) >= MIN_NEAR_CHARS for t in texts], dtype=bool
        )
        out: list[np.ndarray | None] = [None] * len(texts)
        if not usable.any():
            return out
        idx = np.flatnonzero(usable)
        buf = np.frombuffer(b"".join(encoded[i] for i in idx), dtype=np.uint8).astype(np.uint64)
        lens = lengths[idx]
        # Each 5-byte window is its own 40-bit integer: an exact shingle id, no collisions.
        n = len(buf) - SHINGLE + 1
        h = np.zeros(n, dtype=np.uint64)
        for k in range(SHINGLE):
            h = (h << np.uint64(8)) | buf[k : k + n]
        starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
        counts = lens - SHINGLE + 1  # windows that stay inside each text
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        windows = h[np.repeat(starts, counts) + offsets]
        # Multiply-shift hashing, one (odd a, b) pair per permutation: (a*x + b) mod 2^64,
        # keep the high 32 bits. Wrapping uint64 arithmetic, no modulo: fast in NumPy.
        with np.errstate(over="ignore"):
            perm = (np.multiply.outer(windows, self._a) + self._b) >> np.uint64(32)
        firsts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        mins = np.minimum.reduceat(perm, firsts, axis=0).astype(np.uint32)
        for row, i in enumerate(idx):
            out[int(i)] = mins[row]
        return out

    # -- grouping ---------------------------------------------------------------------
    def _touch(self, group: Group) -> None:
        self.groups.move_to_end(group.id)

    def _evict(self) -> None:
        while len(self.groups) > self.max_groups:
            _, old = self.groups.popitem(last=False)
            for key in old.exact_keys:
                if self._exact.get(key) == old.id:
                    del self._exact[key]
            if old.hashvalues is not None:
                self._unindex(old.id, old.hashvalues)

    def _new_group(self, gid: str, key: str, hv: np.ndarray | None) -> Group:
        # A post id seen again (a replayed batch) must not collide with its own group.
        base, n = gid, 1
        while gid in self.groups:
            n += 1
            gid = f"{base}~{n}"
        group = Group(gid, 1, hv, [key])
        self.groups[gid] = group
        self._exact[key] = gid
        if hv is not None:
            self._index(gid, hv)
        self._evict()
        return group

    def _band_keys(self, hv: np.ndarray) -> list[bytes]:
        raw = np.ascontiguousarray(hv, dtype=np.uint32).tobytes()
        width = 4 * self._rows
        return [raw[i * width : (i + 1) * width] for i in range(self._nbands)]

    def _index(self, gid: str, hv: np.ndarray) -> None:
        for table, key in zip(self._tables, self._band_keys(hv), strict=True):
            table.setdefault(key, []).append(gid)

    def _unindex(self, gid: str, hv: np.ndarray) -> None:
        for table, key in zip(self._tables, self._band_keys(hv), strict=True):
            bucket = table.get(key)
            if bucket is None:
                continue
            try:
                bucket.remove(gid)
            except ValueError:
                continue
            if not bucket:
                del table[key]

    def _candidates(self, hv: np.ndarray) -> set[str]:
        found: set[str] = set()
        for table, key in zip(self._tables, self._band_keys(hv), strict=True):
            bucket = table.get(key)
            if bucket:
                found.update(bucket)
        return found

    def prepare(self, items: list[Enriched]) -> PreparedKeys:
        """Keys and sketches of a batch (no index state: a child process may do it).

        Texts repeated inside the batch are sketched once."""
        keys: list[str] = []
        first: dict[str, int] = {}
        todo: list[str] = []
        for it in items:
            folded, key = group_key(it.clean_text or it.text)
            keys.append(key)
            if key not in first:
                first[key] = len(todo)
                todo.append(folded)
        computed = self.sketch_batch(todo)
        return PreparedKeys(keys, [computed[first[k]] for k in keys])

    def _near(self, hv: np.ndarray) -> tuple[Group | None, float]:
        best: Group | None = None
        best_sim = 0.0
        for cand in self._candidates(hv):
            g = self.groups.get(cand)
            if g is None or g.hashvalues is None:
                continue
            sim = float(np.count_nonzero(g.hashvalues == hv)) / self.num_perm
            # Ties go to the smaller id so that the result never depends on set order.
            if sim > best_sim or (sim == best_sim and best is not None and g.id < best.id):
                best, best_sim = g, sim
        if best is None or best_sim < self.threshold:
            return None, 0.0
        return best, best_sim

    def assign(self, items: list[Enriched], prepared: PreparedKeys | None = None) -> list[Enriched]:
        """Put each item in its group, in order. `prepared`: `prepare(items)`, done elsewhere."""
        if prepared is not None:
            if len(prepared.keys) != len(items):
                raise ValueError("clés préparées : pas autant que de messages")
            keys, sketches = prepared.keys, prepared.sketches
        else:
            pairs = [group_key(it.clean_text or it.text) for it in items]
            keys = [key for _folded, key in pairs]
            # Exact copies never need a sketch: compute only those of texts not seen before.
            need: dict[str, int] = {}
            for i, key in enumerate(keys):
                gid = self._exact.get(key)
                if (gid is None or gid not in self.groups) and key not in need:
                    need[key] = i
            computed = self.sketch_batch([pairs[i][0] for i in need.values()])
            by_key = dict(zip(need, computed, strict=True))
            sketches = [by_key.get(key) for key in keys]
        for item, key, hv in zip(items, keys, sketches, strict=True):
            gid = self._exact.get(key)
            group = self.groups.get(gid) if gid is not None else None
            if group is not None:
                item.duplicate, item.similarity = "exact", 1.0
            elif hv is not None:
                group, sim = self._near(hv)
                if group is not None:
                    item.duplicate, item.similarity = "near", round(sim, 3)
                    if len(group.exact_keys) < 64:
                        group.exact_keys.append(key)
                    self._exact[key] = group.id
            if group is None:
                group = self._new_group(f"g:{item.post.id}", key, hv)
                item.duplicate, item.similarity = None, 1.0
                item.group_id, item.group_size, item.is_new_group = group.id, 1, True
                continue
            group.size += 1
            self._touch(group)
            item.group_id, item.group_size, item.is_new_group = group.id, group.size, False
        return items

    __call__ = assign

    # -- state ------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        groups = list(self.groups.values())
        sketched = [g for g in groups if g.hashvalues is not None]
        meta = {
            "version": STATE_VERSION,
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "seed": self.seed,
            "max_groups": self.max_groups,
            "groups": [[g.id, g.size, g.exact_keys] for g in groups],
            "sketched": [g.id for g in sketched],
        }
        hv = (
            np.stack([g.hashvalues for g in sketched])  # type: ignore[misc]
            if sketched
            else np.zeros((0, self.num_perm), dtype=np.uint32)
        )
        buf = io.BytesIO()
        np.savez_compressed(
            buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), hv=hv
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> DedupIndex:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                meta = json.loads(npz["meta"].tobytes().decode())
                hv = npz["hv"]
        except (ValueError, KeyError, OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"état de déduplication illisible : {exc}") from exc
        if meta.get("version") != STATE_VERSION:
            raise ValueError(f"état de déduplication : version {meta.get('version')} inconnue")
        index = cls(
            threshold=meta["threshold"],
            num_perm=meta["num_perm"],
            seed=meta["seed"],
            max_groups=meta["max_groups"],
        )
        sketches = {gid: hv[i].astype(np.uint32) for i, gid in enumerate(meta["sketched"])}
        for gid, size, exact_keys in meta["groups"]:
            group = Group(gid, int(size), sketches.get(gid), list(exact_keys))
            index.groups[gid] = group
            for key in exact_keys:
                index._exact[key] = gid
            if group.hashvalues is not None:
                index._index(gid, group.hashvalues)
        return index
