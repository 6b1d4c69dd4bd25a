"""The models of tools/fit_split.py: a pairwise level ranker and a single-article classifier,
fitted and cross-validated by source (development only: numpy and scikit-learn)."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

STRUCTURAL = [
    "log_heads",
    "fewer_heads",
    "body_share",
    "coverage",
    "head_cv",
    "body_cv",
    "head_units",
    "body_vs_head",
    "comparable",
    "linked_heads",
    "distinct",
    "own_text",
    "heading",
    "heading_level",
    "line_markup",
    "numbered_markup",
    "plain_line",
    "lead",
    "link_list",
    "numbered",
    "unnumbered",
    "dated",
    "finer_inside",
    "bare_groups",
    "in_sections",
    "same_shape",
    "body_links",
    "boxed",
    "recurring",
    "title_count",
    "linked_page",
]
RANKER_SETS = {
    "structural": STRUCTURAL,
    "structural+hand": [*STRUCTURAL, "hand_score"],
    "structural+hand+today": [*STRUCTURAL, "hand_score", "today"],
}
EV_KEYS = [
    "qa",
    "short_heads",
    "shortish_heads",
    "intro",
    "half_intro",
    "questions",
    "section_cues",
    "one_subject",
    "title_part",
    "few_plain",
    "long_sections",
    "linked_heads",
    "runs",
    "boxed",
    "numbered",
    "dated",
    "recurring",
    "title_cue",
    "title_count",
    "category_groups",
]
SINGLE_SETS = {
    "evidence": [f"ev_{k}" for k in EV_KEYS],
    "evidence+shape": [
        *(f"ev_{k}" for k in EV_KEYS),
        "log_heads",
        "head_units",
        "body_vs_head",
        "long_bodies",
        "heading",
        "lead",
        "link_list",
    ],
    "total+shape": ["ev_total", "log_heads", "head_units", "long_bodies", "lead", "link_list"],
}
CS = [0.01, 0.03, 0.1, 0.3, 1.0]
STAKE_MIN = 0.05  # a page whose decision changes nothing still counts a little
MARGIN = 0.05  # pairs whose F1 differ by less say nothing


@dataclass
class Linear:
    names: list[str]
    weight: np.ndarray  # per standardised feature
    mean: np.ndarray
    scale: np.ndarray
    bias: float = 0.0

    def raw(self) -> dict[str, tuple[float, float]]:
        """Each feature's weight per raw unit and its centre (the training mean)."""
        return {
            n: (float(w / s), float(m))
            for n, w, m, s in zip(self.names, self.weight, self.mean, self.scale, strict=True)
        }

    def score(self, feats: dict[str, float]) -> float:
        x = (np.array([feats.get(n, 0.0) for n in self.names]) - self.mean) / self.scale
        return float(x @ self.weight + self.bias)


def _matrix(rows: list[dict[str, float]], names: list[str]) -> np.ndarray:
    return np.array([[r.get(n, 0.0) for n in names] for r in rows], dtype=float)


def fit_ranker(recs: list[dict[str, Any]], names: list[str], c: float) -> Linear:
    cands = [cand["features"] for r in recs if r["kind"] == "digest" for cand in r["cands"]]
    x_all = _matrix(cands, names)
    mean, scale = x_all.mean(axis=0), x_all.std(axis=0)
    scale[scale == 0] = 1.0
    xs, ys, ws = [], [], []
    for r in recs:
        if r["kind"] != "digest" or len(r["cands"]) < 2:
            continue
        x = (_matrix([cand["features"] for cand in r["cands"]], names) - mean) / scale
        f = [cand["f1"] for cand in r["cands"]]
        pairs = [
            (i, j) for i, j in itertools.combinations(range(len(f)), 2) if abs(f[i] - f[j]) > MARGIN
        ]
        for i, j in pairs:
            d = x[i] - x[j]
            y = 1 if f[i] > f[j] else 0
            w = abs(f[i] - f[j]) / len(pairs)
            xs += [d, -d]
            ys += [y, 1 - y]
            ws += [w, w]
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000)
    model.fit(np.array(xs), np.array(ys), sample_weight=np.array(ws))
    return Linear(names, model.coef_[0], mean, scale)


def pick(rec: dict[str, Any], ranker: Linear | None) -> int | None:
    """The candidate chosen: the ranker's best, or today's choice without one."""
    if not rec["cands"]:
        return None
    if ranker is None:
        return next((k for k, c in enumerate(rec["cands"]) if c["today"]), None)
    scores = [ranker.score(c["features"]) for c in rec["cands"]]
    return int(np.argmax(scores))


def hand_single(rec: dict[str, Any], k: int | None) -> bool:
    """Today's decision on candidate ``k`` (as pipeline._single makes it)."""
    if k is None:
        return bool(rec["one_text"] >= 200)
    cand = rec["cands"][k]
    if cand["label_level"]:
        return bool(rec["dialogue"])
    if cand["lead"]:
        return False
    return bool(cand["hand_single"])


def fit_single(
    recs: list[dict[str, Any]], ranker: Linear | None, names: list[str], c: float
) -> Linear:
    rows, ys, ws = [], [], []
    for r in recs:
        k = pick(r, ranker)
        if k is None:
            continue
        rows.append(r["cands"][k]["single_features"])
        ys.append(int(r["kind"] == "single"))
        # what the decision is worth on this page: a single kept whole is one page right; a
        # digest kept whole loses the F1 its chosen level reaches
        stake = (
            outcome(r, k, False)[0] - outcome(r, k, True)[0]
            if r["kind"] == "digest"
            else (float(outcome(r, k, True)[1]) - float(outcome(r, k, False)[1]))
        )
        ws.append(max(stake, STAKE_MIN))
    x = _matrix(rows, names)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, np.array(ys), sample_weight=np.array(ws))
    return Linear(names, model.coef_[0], mean, scale, float(model.intercept_[0]))


def outcome(rec: dict[str, Any], k: int | None, single: bool) -> tuple[float, bool, bool]:
    """(F1 for a digest, right for a single, an error)."""
    if single:
        heads = rec["whole_heads"]
        score = rec.get("whole_f1", 0.0)
    elif k is None:
        heads, score = [], 0.0
    else:
        heads = rec["cands"][k]["heads"]
        score = rec["cands"][k].get("f1", 0.0)
    return score, len(heads) == 1, not heads


@dataclass
class Chooser:
    ranker_names: list[str] | None  # None: today's chooser
    single_names: list[str] | None  # None: today's decision
    c_rank: float | None = None  # None: chosen by an inner CV
    c_single: float | None = None
    # how the pages are seen when fitting and when deciding (see ``VIEWS``): "as-is" (every
    # candidate as it is), "moved" (a family stands for what the outline's moves make of it)
    train_view: str = "as-is"
    test_view: str = "as-is"


def moved_view(rec: dict[str, Any], key: str = "moved") -> dict[str, Any]:
    """The page as a chooser that picks the *start* of the outline's moves sees it: each family
    candidate's outcome is that of the level the moves reach from it; today's own pick (the moves
    from the best hand score) is no candidate of its own."""
    out = dict(rec)
    cands = []
    for c in rec["cands"]:
        if c["origin"] == "today":
            continue
        c = dict(c)
        if c["origin"] == "family" and key in c:
            m = c[key]
            c.update(
                heads=m["heads"],
                hand_single=m["hand_single"],
                lead=m["lead"],
                label_level=m["label_level"],
            )
            if "f1" in m:
                c["f1"] = m["f1"]
        cands.append(c)
    # the hand-set chooser's own pick is the moves from the best hand score (ties: shorter name)
    families = [k for k, c in enumerate(cands) if c["origin"] == "family"]
    best = max(
        families,
        key=lambda k: (cands[k]["features"]["hand_score"], -len(cands[k]["name"])),
        default=None,
    )
    for k, c in enumerate(cands):
        c["today"] = k == best if not rec_is_links(rec) else c["origin"] == "links"
    out["cands"] = cands
    return out


def rec_is_links(rec: dict[str, Any]) -> bool:
    """Today's pick is the page's headline links (not a family moved on the outline)."""
    return any(c["today"] and c["origin"] == "links" for c in rec["cands"])


def top_view(k: int) -> Any:
    """The page with only today's pick, the links and the ``k`` best families by hand score."""

    def view(rec: dict[str, Any]) -> dict[str, Any]:
        fam = sorted(
            (c for c in rec["cands"] if c["origin"] == "family"),
            key=lambda c: -c["features"]["hand_score"],
        )[:k]
        keep = {id(c) for c in fam}
        out = dict(rec)
        out["cands"] = [
            c for c in rec["cands"] if id(c) in keep or c["today"] or c["origin"] != "family"
        ]
        return out

    return view


VIEWS: dict[str, Any] = {
    "as-is": lambda rec: rec,
    "moved": moved_view,
    "moved_up": lambda rec: moved_view(rec, "moved_up"),
    "moved_down": lambda rec: moved_view(rec, "moved_down"),
    "top2": top_view(2),
    "top3": top_view(3),
}


def viewed(data: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: [VIEWS[name](r) for r in recs] for key, recs in data.items()}


def decide(
    rec: dict[str, Any], ranker: Linear | None, single: Linear | None
) -> tuple[int | None, bool]:
    k = pick(rec, ranker)
    if single is None or k is None:
        return k, hand_single(rec, k)
    return k, single.score(rec["cands"][k]["single_features"]) > 0


def fit(
    recs: list[dict[str, Any]], how: Chooser, inner: bool = True
) -> tuple[Linear | None, Linear | None]:
    ranker = None
    if how.ranker_names is not None:
        c = how.c_rank or (_inner_c(recs, how, "rank") if inner else 0.1)
        ranker = fit_ranker(recs, how.ranker_names, c)
    single = None
    if how.single_names is not None:
        c = how.c_single or (_inner_c(recs, how, "single", ranker) if inner else 0.1)
        single = fit_single(recs, ranker, how.single_names, c)
    return ranker, single


def _inner_c(
    recs: list[dict[str, Any]], how: Chooser, part: str, ranker: Linear | None = None
) -> float:
    """The C that does best on a grouped 5-fold CV of the training pages alone."""
    sources = sorted({r["source"] for r in recs})
    folds = [set(sources[i::5]) for i in range(5)]
    best, best_c = -1.0, CS[0]
    for c in CS:
        total = 0.0
        for fold in folds:
            train = [r for r in recs if r["source"] not in fold]
            test = [r for r in recs if r["source"] in fold]
            if part == "rank":
                assert how.ranker_names is not None
                model = fit_ranker(train, how.ranker_names, c)
                total += sum(
                    outcome(r, pick(r, model), False)[0] for r in test if r["kind"] == "digest"
                )
            else:
                assert how.single_names is not None
                model = fit_single(train, ranker, how.single_names, c)
                for r in test:
                    k, s = decide(r, ranker, model)
                    score, one, _ = outcome(r, k, s)
                    total += score if r["kind"] == "digest" else float(one)
        if total > best + 1e-9:
            best, best_c = total, c
    return best_c


@dataclass
class Reading:
    f1: float
    singles: int
    n_singles: int
    errors: int
    pages: dict[str, tuple[float, bool, bool, str]]

    def line(self) -> str:
        return f"F1 {self.f1:.3f}  singles {self.singles}/{self.n_singles}  errors {self.errors}"


def reading(recs: list[dict[str, Any]], decisions: dict[str, tuple[int | None, bool]]) -> Reading:
    pages = {}
    for r in recs:
        k, s = decisions[r["id"]]
        score, one, error = outcome(r, k, s)
        name = "whole" if s else (r["cands"][k]["name"] if k is not None else "none")
        pages[r["id"]] = (score, one, error, name)
    digests = [r for r in recs if r["kind"] == "digest"]
    singles = [r for r in recs if r["kind"] == "single"]
    return Reading(
        statistics.mean(pages[r["id"]][0] for r in digests),
        sum(pages[r["id"]][1] for r in singles),
        len(singles),
        sum(p[2] for p in pages.values()),
        pages,
    )


def cross_validate(data: dict[str, Any], how: Chooser, held_out: str = "loso") -> Reading:
    """Leave one source out: fit on the other sources' pages (every rule on), decide on the held-out
    source's pages as ``held_out`` reads them ("loso": its own rules off; "all": every rule on)."""
    train_all = viewed(data, how.train_view)["all"]
    test = {r["id"]: r for r in viewed(data, how.test_view)[held_out]}
    by_source: dict[str, list[str]] = defaultdict(list)
    for r in train_all:
        by_source[r["source"]].append(r["id"])
    decisions = {}
    for source, ids in by_source.items():
        train = [r for r in train_all if r["source"] != source]
        ranker, single = fit(train, how)
        for i in ids:
            decisions[i] = decide(test[i], ranker, single)
    return reading(list(test.values()), decisions)


def on_all(data: dict[str, Any], how: Chooser, which: str = "all") -> Reading:
    ranker, single = fit(viewed(data, how.train_view)["all"], how)
    recs = viewed(data, how.test_view)[which]
    return reading(recs, {r["id"]: decide(r, ranker, single) for r in recs})


def stability(data: dict[str, Any], how: Chooser, part: str) -> None:
    """The weights over the folds: mean, spread, and how often each keeps its sign."""
    rows = []
    for source in sorted({r["source"] for r in data["all"]}):
        train = [r for r in data["all"] if r["source"] != source]
        ranker, single = fit(train, how, inner=False)
        model = ranker if part == "rank" else single
        assert model is not None
        rows.append(model.weight)
    w = np.array(rows)
    names = how.ranker_names if part == "rank" else how.single_names
    assert names is not None
    print(f"{'feature':18s} {'mean':>7s} {'sd':>6s} {'sign kept':>9s}")
    order = np.argsort(-np.abs(w.mean(axis=0)))
    for i in order:
        same = max((w[:, i] > 0).mean(), (w[:, i] < 0).mean())
        print(f"{names[i]:18s} {w[:, i].mean():7.3f} {w[:, i].std():6.3f} {same:9.0%}")


# the features of the ranker in rules.RANKER, as ``select`` chose them, and its C
SHIPPED = ["log_heads", "heading", "coverage", "own_text", "title_count"]
SHIPPED_C = 0.1


def select_loso(data: dict[str, Any], c: float = SHIPPED_C, least: float = 0.002) -> list[str]:
    """Forward selection under the leave-one-source-out CV (every rule on): the features of the
    shipped ranker."""
    chosen: list[str] = []
    best = -1.0
    pool = list(POOL)
    while pool:
        score, name = max(
            (cross_validate(data, Chooser([*chosen, n], None, c_rank=c), "all").f1, n) for n in pool
        )
        if score <= best + least:
            break
        chosen.append(name)
        pool.remove(name)
        best = score
        print(f"+ {name}: CV F1 {score:.3f}", flush=True)
    return chosen


def table(data: dict[str, Any]) -> None:
    """The shipped ranker fitted on every page, as rules.RANKER's weights."""
    model = fit_ranker(data["all"], SHIPPED, SHIPPED_C)
    how = Chooser(SHIPPED, None, c_rank=SHIPPED_C)
    print("    weights: tuple[tuple[str, float, float], ...] = (")
    for name, (weight, centre) in model.raw().items():
        print(f'        ("{name}", {weight:.4f}, {centre:.4f}),')
    print("    )")
    for label, result in [
        ("in-sample", on_all(data, how)),
        ("CV, every rule on", cross_validate(data, how, "all")),
        ("CV, held-out rules off", cross_validate(data, how, "loso")),
        ("on arrival", on_all(data, how, "arrival")),
    ]:
        print(f"# {label:24s} {result.line()}")
    stability(data, how, "rank")


def main(what: str, data: dict[str, Any]) -> None:
    if what == "select":
        print("selected:", select_loso(data))
    elif what == "weights":
        table(data)
    elif what == "nested":
        nested(data)
    elif what == "cv":
        compare(data)


def compare(data: dict[str, Any]) -> None:
    """The comparison table: each chooser and decision, in-sample, cross-validated, on arrival."""
    rows = {
        "outline chooser, hand single": Chooser(None, None),
        "ranker: shipped features": Chooser(SHIPPED, None, c_rank=SHIPPED_C),
        "ranker: all structural": Chooser(RANKER_SETS["structural"], None),
        "ranker: structural+hand score+today": Chooser(RANKER_SETS["structural+hand+today"], None),
        "outline chooser, fitted single (evidence)": Chooser(None, SINGLE_SETS["evidence"]),
        "outline chooser, fitted single (evidence+shape)": Chooser(
            None, SINGLE_SETS["evidence+shape"]
        ),
        "ranker: all structural, fitted single (evidence+shape)": Chooser(
            RANKER_SETS["structural"], SINGLE_SETS["evidence+shape"]
        ),
        # the ranker picks where the outline's moves start (each family seen as what they make of it)
        "ranker: shipped features, moves from its pick": Chooser(
            SHIPPED, None, c_rank=SHIPPED_C, train_view="moved", test_view="moved"
        ),
        "ranker: structural+hand score, moves from its pick": Chooser(
            RANKER_SETS["structural+hand"], None, train_view="moved", test_view="moved"
        ),
    }
    print(
        "| chooser | all pages (in-sample) | CV, every rule on | CV, held-out rules off | on arrival |"
    )
    print("|---|---|---|---|---|")
    for name, how in rows.items():
        fitted = how.ranker_names is not None or how.single_names is not None
        cells = [on_all(data, how).line()]
        if fitted:
            cells += [cross_validate(data, how, r).line() for r in ("all", "loso")]
        else:  # nothing to fit: the hand-set chooser on every page, and LOSO
            cells += [on_all(data, how).line() + " (not CV)", on_all(data, how, "loso").line()]
        cells.append(on_all(data, how, "arrival").line())
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def fit_listwise(
    recs: list[dict[str, Any]], names: list[str], c: float, tau: float = 0.1
) -> Linear:
    """A listwise ranker (ListNet): the softmax of the candidates' scores fitted to the softmax of
    their F1 (temperature ``tau``), each page weighing the same; L2 penalty 1/(2c)."""
    from scipy.optimize import minimize

    pages = [r for r in recs if r["kind"] == "digest" and len(r["cands"]) >= 2]
    cands = [cand["features"] for r in pages for cand in r["cands"]]
    x_all = _matrix(cands, names)
    mean, scale = x_all.mean(axis=0), x_all.std(axis=0)
    scale[scale == 0] = 1.0
    xs, ts = [], []
    for r in pages:
        f = np.array([cand["f1"] for cand in r["cands"]])
        if f.max() - f.min() <= MARGIN:
            continue
        t = np.exp((f - f.max()) / tau)
        xs.append((_matrix([cand["features"] for cand in r["cands"]], names) - mean) / scale)
        ts.append(t / t.sum())

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(w)
        for x, t in zip(xs, ts, strict=True):
            s = x @ w
            s -= s.max()
            p = np.exp(s)
            p /= p.sum()
            total -= float(t @ np.log(p + 1e-12))
            grad -= x.T @ (t - p)
        n = len(xs)
        return total / n + (w @ w) / (2 * c * n), grad / n + w / (c * n)

    w0 = np.zeros(len(names))
    res = minimize(loss, w0, jac=True, method="L-BFGS-B")
    return Linear(names, res.x, mean, scale)


POOL = [n for n in STRUCTURAL if n not in ("fewer_heads", "linked_page")] + ["hand_score"]


def _grouped_f1(recs: list[dict[str, Any]], names: list[str], c: float, k: int = 5) -> float:
    """Mean digest F1 of a ranker over ``k`` folds of sources (every rule on)."""
    sources = sorted({r["source"] for r in recs})
    total, n = 0.0, 0
    for i in range(k):
        fold = set(sources[i::k])
        model = fit_ranker([r for r in recs if r["source"] not in fold], names, c)
        for r in recs:
            if r["source"] in fold and r["kind"] == "digest":
                total += outcome(r, pick(r, model), False)[0]
                n += 1
    return total / n


def forward(recs: list[dict[str, Any]], c: float = 0.1, least: float = 0.002) -> list[str]:
    """Forward selection of the ranker's features: add the one that raises the grouped-CV F1 most,
    while it raises it by at least ``least``."""
    chosen: list[str] = []
    best = -1.0
    pool = list(POOL)
    while pool:
        score, name = max((_grouped_f1(recs, [*chosen, n], c), n) for n in pool)
        if score <= best + least:
            break
        chosen.append(name)
        pool.remove(name)
        best = score
    return chosen


def nested(data: dict[str, Any], c: float = 0.1) -> None:
    """The whole procedure (selection, then fit) cross-validated: selection redone inside each
    outer fold, on its training sources alone."""
    from collections import Counter

    picked: Counter[str] = Counter()
    decisions: dict[str, dict[str, tuple[int | None, bool]]] = {"all": {}, "loso": {}}
    test = {reading: {r["id"]: r for r in data[reading]} for reading in ("all", "loso")}
    sources = sorted({r["source"] for r in data["all"]})
    for source in sources:
        train = [r for r in data["all"] if r["source"] != source]
        names = forward(train, c)
        picked.update(names)
        model = fit_ranker(train, names, c)
        for r in data["all"]:
            if r["source"] == source:
                for reading in ("all", "loso"):
                    rec = test[reading][r["id"]]
                    k = pick(rec, model)
                    decisions[reading][r["id"]] = (k, hand_single(rec, k))
        print(source, names, flush=True)
    for reading in ("all", "loso"):
        print("nested CV", reading, reading_line(data[reading], decisions[reading]))
    print("features picked in how many of", len(sources), "folds:", picked.most_common())


def reading_line(recs: list[dict[str, Any]], decisions: dict[str, tuple[int | None, bool]]) -> str:
    return reading(recs, decisions).line()
