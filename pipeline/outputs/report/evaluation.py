"""The HTML report of ``dedi evaluate``: the estimate and its interval in words, the
event-study chart, the pre-trend test, the matched comparison set with its balance, and a
plain statement of what the comparison can and cannot show. Offline, one file, no script."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline.method.evaluate import Evaluation
from pipeline.outputs.maps import png_bytes, stamp
from pipeline.outputs.report.html import escape, fill, html_table, image, p_value

TEMPLATE = Path(__file__).with_name("templates") / "evaluation.html"


def event_chart(ev: Evaluation, label: str, units: str, synthetic: bool) -> bytes:
    """Coefficients by event time with their bootstrap intervals (reference period −1)."""
    es = ev.event_study
    fig, ax = plt.subplots(figsize=(8.2, 3.8))
    pre = es["k"] < 0
    for mask, colour, name in ((pre, "#6b6b6b", "before the start"),
                               (~pre, "#3e4989", "after the start")):
        d = es[mask]
        ax.errorbar(d["k"], d["coef"], yerr=[d["coef"] - d["lo"], d["hi"] - d["coef"]],
                    fmt="o", color=colour, ecolor=colour, elinewidth=1.2, capsize=3,
                    label=name)
    ax.axhline(0, color="#1b1b1b", lw=0.8)
    ax.axvline(-0.5, color="#b00020", lw=1, ls="--")
    ax.text(-0.45, ax.get_ylim()[1], " start", color="#b00020", va="top", fontsize=9)
    ticks = es["k"].tolist()
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{k}\n{p}" if p else str(k) for k, p in
                        zip(es["k"], es["period_label"], strict=True)], fontsize=7)
    ax.set_xlabel("periods since the start (first treated cohort's calendar periods below)")
    ax.set_ylabel(f"difference vs comparison\n({units})", fontsize=8)
    ax.set_title(f"{label}: intervention minus matched comparison, relative to the period "
                 f"before the start ({ev.level:.0%} intervals)", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    fig.subplots_adjust(bottom=0.3)  # room for the synthetic stamp under the axis label
    stamp(fig, synthetic)
    return png_bytes(fig)


def _num(v: float | None, digits: int = 2) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"{v:,.{digits}f}" if round(v, digits) != 0 else f"{0:.{digits}f}"  # no "-0.00"


def balance_note(balance: pd.DataFrame, matches: pd.DataFrame) -> str:
    """Words for any covariate whose balance matching made worse, with why it can happen
    (units matched in a coarser stratum do not hold that covariate exactly)."""
    worse = balance[balance["std_diff_after"].abs() > balance["std_diff_before"].abs() + 5e-3]
    if worse.empty:
        return ""
    levels = matches.groupby("treated_unit")["match_level"].first()
    finest = max(levels, key=lambda lv: lv.count("+") + (lv != "none"))
    coarse = int((levels != finest).sum())
    items = "; ".join(f"{r.covariate} {_num(r.std_diff_before)} before, "
                      f"{_num(r.std_diff_after)} after" for r in worse.itertuples())
    return (f"Matching made balance worse on {items} (standardised differences). "
            f"{coarse} of {len(levels)} intervention units were matched in a coarser stratum "
            f"than {finest}, which does not hold every matching variable exactly; the estimate "
            "compares groups that differ on it, so read it with that in mind.")


def evaluation_html(row: dict, ev: Evaluation, prep, synthetic: bool) -> str:
    """The report page."""
    lo, hi = row["ci_low"], row["ci_high"]
    sig = row["significant"]
    verdict = (f"Estimated effect on {row['outcome_label']}: <b>{_num(row['effect'])}</b> "
               f"{row['effect_units']} ({_num(lo)} to {_num(hi)}, {row['level']:.0%} "
               "interval). "
               + ("The interval excludes zero: the intervention units changed differently "
                  "from their matched comparisons." if sig else
                  "The interval includes zero: no difference from the matched comparisons "
                  "can be told apart from chance."))
    if row["pretrend_p"] is None:
        pretrend = ("Not testable: the outcome has only one period before the start, so "
                    "nothing shows whether the two groups were already moving apart. Treat "
                    "the estimate with extra caution.")
    else:
        p = row["pretrend_p"]
        pretrend = (f"Before the start, the difference between the groups changed by "
                    f"{_num(row['pretrend_slope'], 3)} a period over "
                    f"{row['pretrend_periods'] + 1} pre-periods (slope of the pre-period "
                    f"points; bootstrap p = {p_value(p)}). " + (
                        "The groups were already moving apart before the start; the estimate "
                        "is likely biased." if p < 0.05 else
                        "No evidence that the groups were moving apart before the start "
                        "(which does not prove they would have moved together after it)."))
    bal = ev.balance.rename(columns={
        "covariate": "matched on", "treated_mean": "intervention units",
        "all_comparison_mean": "all other units", "matched_comparison_mean": "matched comparison",
        "std_diff_before": "std. difference before matching",
        "std_diff_after": "after matching"})
    matches = ev.matches.copy()
    levels = matches.groupby("treated_unit")["match_level"].first().value_counts()
    matches = matches.groupby("treated_unit").agg(
        comparison_units=("control_unit", lambda s: ", ".join(s)),
        matched_within=("match_level", "first")).reset_index().rename(
        columns={"treated_unit": "intervention unit"})
    dropped = ("" if not ev.dropped else "<p>Left out: " + escape("; ".join(
        f"{u} ({why})" for u, why in list(ev.dropped.items())[:50])) + "</p>")
    key = pd.DataFrame({"": [
        "intervention units (evaluated)", "comparison units (distinct)", "outcome",
        "periods in the outcome", "bootstrap clusters", "p-value (normal approximation)"],
        "value": [f"{row['treated_units']:,}", f"{row['comparison_units']:,}",
                  f"{row['outcome_label']} ({row['outcome_units']})",
                  f"{row['first_period']} to {row['last_period']}",
                  f"{row['clusters']:,} ({row['cluster_by']})", p_value(row["p_value"])]})
    es = ev.event_study.rename(columns={"k": "period since start", "period_label": "period",
                                        "coef": "difference", "lo": "low", "hi": "high",
                                        "n_treated": "units"})
    caveats = [
        "<li><b>SYNTHETIC DEMO DATA</b>: the outcome and the intervention file are made up by "
        "the demo generator; the effect was planted.</li>" if synthetic else "",
        f"<li>Method: {escape(row['method'])}.</li>",
        "<li>NHS App uptake per LSOA is apportioned from GP practices with one snapshot of "
        "where patients live; a change at one practice spreads over every LSOA its patients "
        "live in.</li>" if row["outcome"] == "nhs_app_uptake" and row["unit_type"] != "practice"
        else "",
        "<li>IMD percentiles are relative: a rise says the LSOA moved against others, not that "
        "it became less deprived in absolute terms. IoD indicators describe years before "
        "publication (IoD 2025 mostly 2022-2024), and IoD 2025 changed the method of several "
        "domains; only LSOAs comparable across releases are used.</li>"
        if row["outcome"] == "imd_percentile" else "",
        f"<li>Matched within: {escape(', '.join(f'{k} ({v})' for k, v in levels.items()))}. "
        "A treated unit with too few comparison units in its exact stratum is matched in a "
        "coarser one.</li>",
    ]
    parts = {
        "TITLE": escape(f"Evaluation: {row['evaluation']}"),
        "BANNER": ('<div class="banner">SYNTHETIC DEMO DATA: every number in this report is '
                   'made up by the demo generator and is not a real statistic.</div>'
                   if synthetic else ""),
        "META": escape(f"{row['interventions'] or 'intervention'} · {row['unit_type']} units · "
                  f"release {row['release']} · data status {row['data_status']} · input "
                  f"{Path(row['input_file']).name} (sha256 {row['input_sha256'][:12]})"),
        "VERDICT": verdict,
        "KEY": html_table(key, "key"),
        "CHART_NOTE": escape("Each point is the average difference between the intervention units "
                        "and their matched comparisons, minus that difference in the period "
                        "just before the start (so it is zero there). Points before the start "
                        "show whether the groups were already moving apart."),
        "CHART": image(event_chart(ev, row["outcome_label"], row["effect_units"], synthetic),
                      "event study chart"),
        "EVENT_TABLE": html_table(es.round(3)),
        "PRETREND": escape(pretrend),
        "MATCH_NOTE": escape(f"Each intervention unit is compared with its "
                        f"{len(ev.matches) // max(row['treated_units'], 1)} nearest other "
                        "units that had no intervention, on the outcome before the start, "
                        "within the same geography, rurality and decile. Standardised "
                        "differences near 0 after matching mean the groups started alike."),
        "BALANCE": html_table(bal.round(3)) + (f'<p class="warn" id="balance-note">'
                                               f'{escape(note)}</p>' if (note := balance_note(
                                                   ev.balance, ev.matches)) else ""),
        "MATCHES": html_table(matches.head(200), "top20"),
        "DROPPED": dropped,
        "STATEMENT": escape(row["statement"]),
        "CAVEATS": "\n".join(c for c in caveats if c),
        "ATTRIBUTION": escape("Contains public sector information licensed under the Open "
                         "Government Licence v3.0."),
    }
    return fill(TEMPLATE, parts)
