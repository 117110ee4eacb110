using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.DynMoE.Experiments.Reports;
using ScottPlot;

namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>Writes a benchmark's contract files (benchmark.json, summary.json), report.md and its charts.</summary>
    public static class BenchmarkReport
    {
        /// <summary>Rows file.</summary>
        public const string RowsFileName = "benchmark.json";
        /// <summary>Statistics file.</summary>
        public const string SummaryFileName = "summary.json";
        /// <summary>Markdown report.</summary>
        public const string ReportFileName = "report.md";
        /// <summary>Average ranks with the critical difference.</summary>
        public const string RanksChartFileName = "average-ranks.png";
        /// <summary>Metric against activated experts per token, per data set.</summary>
        public const string QualityChartFileName = "quality-vs-activated-experts.png";
        /// <summary>DynMoE − baseline per data set with 95% intervals.</summary>
        public const string DifferencesChartFileName = "differences-per-dataset.png";

        private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

        /// <summary>Writes benchmark.json and summary.json only (cheap; used as a checkpoint after every candidate).</summary>
        public static void SaveData(IReadOnlyList<BenchmarkRow> rows, BenchmarkSummary summary, string directory)
        {
            Directory.CreateDirectory(directory);
            WriteAtomically(Path.Combine(directory, RowsFileName), JsonSerializer.Serialize(rows, Json));
            WriteAtomically(Path.Combine(directory, SummaryFileName), JsonSerializer.Serialize(summary, Json));
        }

        /// <summary>Writes every output; returns the paths written.</summary>
        public static IReadOnlyList<string> SaveAll(BenchmarkResult result, DynMoEBenchmarkSettings settings, string directory, string? command = null)
        {
            ArgumentNullException.ThrowIfNull(result);
            SaveData(result.Rows, result.Summary, directory);
            var written = new List<string> { Path.Combine(directory, RowsFileName), Path.Combine(directory, SummaryFileName) };
            var charts = new List<string>();
            void Chart(string name, Func<string, bool> draw)
            {
                string p = Path.Combine(directory, name);
                try
                {
                    if (draw(p)) charts.Add(p);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // A chart is a convenience: the numbers are in the JSON files and the report.
                }
            }
            Chart(RanksChartFileName, p => SaveRanksChart(result.Summary, p));
            Chart(QualityChartFileName, p => SaveQualityChart(result.Rows, p));
            Chart(DifferencesChartFileName, p => SaveDifferencesChart(result.Rows, settings, p));
            File.WriteAllText(Path.Combine(directory, ReportFileName), ToMarkdown(result, settings, command, charts.Select(Path.GetFileName).ToArray()!));
            written.Add(Path.Combine(directory, ReportFileName));
            written.AddRange(charts);
            return written;
        }

        private static void WriteAtomically(string path, string text)
        {
            string tmp = path + ".tmp";
            File.WriteAllText(tmp, text);
            File.Move(tmp, path, overwrite: true);
        }

        private static string F(double? v, string format = "F4") => v.HasValue && double.IsFinite(v.Value) ? v.Value.ToString(format, CultureInfo.InvariantCulture) : "–";

        /// <summary>The markdown report: protocol, average ranks, comparisons, per-data-set table, ablation.</summary>
        public static string ToMarkdown(BenchmarkResult result, DynMoEBenchmarkSettings settings, string? command = null, IReadOnlyList<string>? charts = null)
        {
            var s = result.Summary;
            var sb = new StringBuilder();
            sb.AppendLine("# DynMoE benchmark");
            sb.AppendLine();
            if (command is not null)
                sb.AppendLine($"Reproduce: `{command}`").AppendLine();
            sb.AppendLine(FormattableString.Invariant($"Protocol: {settings.Repeats}× repeated stratified {settings.Folds}-fold cross-validation (identical splits and seeds for every candidate of a data set), {settings.NumberOfEpochs} epochs for every neural candidate ({settings.TextEpochs} on text data sets, {settings.ImageEpochs} on image data sets), seed {settings.Seed}. Metric: macro-accuracy (multiclass), AUC (binary), R² (regression); higher is better. TopKTuned picks (k, experts) per training fold on an inner {settings.InnerValidationFraction:P0} validation split; TopKGridBestOnTest picks on the test folds and is optimistic. Differences are DynMoE − baseline; a tie is |mean paired difference| < one standard error, with the Nadeau–Bengio correction for overlapping training folds. Run time {result.Elapsed.TotalMinutes:F1} min{(result.IsCancelled ? "; CANCELLED: partial results" : "")}."));
            sb.AppendLine();
            sb.AppendLine($"## Average ranks ({s.RankedDataSets} data sets; 1 = best; Nemenyi critical difference {F(s.CriticalDifference, "F2")})");
            sb.AppendLine();
            sb.AppendLine("| Candidate | Average rank | Activated experts / token |");
            sb.AppendLine("|---|---:|---:|");
            foreach (var (name, rank) in s.AverageRanks.OrderBy(kv => kv.Value))
                sb.AppendLine($"| {name} | {F(rank, "F2")} | {(s.ActivatedExpertsPerToken.TryGetValue(name, out var a) ? F(a, "F2") : "–")} |");
            sb.AppendLine();
            sb.AppendLine("## DynMoE (defaults) against each baseline");
            sb.AppendLine();
            sb.AppendLine("| Baseline | Wins | Ties | Losses | Mean difference | Wilcoxon p | Data sets |");
            sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var c in s.Comparisons)
                sb.AppendLine($"| {c.Baseline}{(c.Optimistic ? " (optimistic)" : "")} | {c.Wins} | {c.Ties} | {c.Losses} | {F(c.MeanDifference, "+0.0000;-0.0000;0.0000")} | {F(c.PValue, "F3")}{(c.Exact ? "" : " (normal approx.)")} | {c.DataSets} |");
            sb.AppendLine();

            var dataSets = result.Rows.Select(r => r.DataSet).Distinct().ToArray();
            var shown = new[] { DynMoEBenchmark.DynMoEName, DynMoEBenchmark.GridMeanName, DynMoEBenchmark.TunedName, DynMoEBenchmark.GridBestName, "Dense", "LightGbm", "FastTree", "Sdca", "Lbfgs" }
                .Where(n => result.Rows.Any(r => r.Name == n)).ToArray();
            sb.AppendLine("## Per data set (mean ± std over folds)");
            sb.AppendLine();
            sb.AppendLine("| Data set | Metric | " + string.Join(" | ", shown) + " | DynMoE experts/token |");
            sb.AppendLine("|---|---|" + string.Concat(shown.Select(_ => "---:|")) + "---:|");
            foreach (var d in dataSets)
            {
                var metric = result.Rows.First(r => r.DataSet == d).Metric;
                var cells = shown.Select(n =>
                {
                    var r = result.Rows.LastOrDefault(x => x.DataSet == d && x.Name == n);
                    return r is null ? "–" : r.Succeeded ? $"{F(r.Mean)} ± {F(r.Std)}" : "failed";
                });
                var dyn = result.Rows.LastOrDefault(x => x.DataSet == d && x.Name == DynMoEBenchmark.DynMoEName);
                sb.AppendLine($"| {d} | {metric} | {string.Join(" | ", cells)} | {F(dyn?.ActivatedExpertsPerToken, "F2")} |");
            }
            sb.AppendLine();

            var dyns = result.Rows.Where(r => r.Name == DynMoEBenchmark.DynMoEName && r.Succeeded).ToArray();
            if (dyns.Length > 0)
            {
                sb.AppendLine("## Paired differences DynMoE − baseline per data set (95% t interval, corrected)");
                sb.AppendLine();
                var baselines = new[] { DynMoEBenchmark.GridMeanName, DynMoEBenchmark.TunedName, "Dense", "LightGbm" }.Where(n => result.Rows.Any(r => r.Name == n)).ToArray();
                sb.AppendLine("| Data set | " + string.Join(" | ", baselines) + " |");
                sb.AppendLine("|---|" + string.Concat(baselines.Select(_ => "---:|")));
                foreach (var d in dyns)
                {
                    var cells = baselines.Select(b =>
                    {
                        var r = result.Rows.LastOrDefault(x => x.DataSet == d.DataSet && x.Name == b && x.Succeeded);
                        if (r is null || r.Folds.Count != d.Folds.Count) return "–";
                        var p = BenchmarkStatistics.Paired(d.Folds, r.Folds, 1.0 / (settings.Folds - 1));
                        return $"{F(p.Mean, "+0.0000;-0.0000;0.0000")} [{F(p.Lower, "+0.000;-0.000;0.000")}, {F(p.Upper, "+0.000;-0.000;0.000")}]";
                    });
                    sb.AppendLine($"| {d.DataSet} | {string.Join(" | ", cells)} |");
                }
                sb.AppendLine();
            }

            if (s.Ablation is { Count: > 0 })
            {
                sb.AppendLine("## DynMoE configurations (ablation)");
                sb.AppendLine();
                sb.AppendLine("Average rank among the DynMoE configurations, TopKGridMean and TopKTuned.");
                sb.AppendLine();
                sb.AppendLine("| Configuration | Average rank | W/T/L vs TopKGridMean | Activated experts / token | Mean metric |");
                sb.AppendLine("|---|---:|---:|---:|---:|");
                foreach (var a in s.Ablation.OrderBy(a => a.AverageRank))
                    sb.AppendLine($"| {a.Name} | {F(a.AverageRank, "F2")} | {a.Wins}/{a.Ties}/{a.Losses} | {F(a.ActivatedExpertsPerToken, "F2")} | {F(a.MeanMetric)} |");
                sb.AppendLine();
            }

            var failed = result.Rows.Where(r => !r.Succeeded).ToArray();
            if (failed.Length > 0)
            {
                sb.AppendLine("## Failed candidates");
                sb.AppendLine();
                foreach (var r in failed)
                    sb.AppendLine($"- {r.DataSet} / {r.Name}: {r.Error}");
                sb.AppendLine();
            }
            if (charts is { Count: > 0 })
            {
                sb.AppendLine("## Charts");
                sb.AppendLine();
                foreach (var c in charts)
                    sb.AppendLine($"![{c}]({c})");
            }
            return sb.ToString();
        }

        /// <summary>Average ranks (1 = best) on a line with the Nemenyi critical difference drawn as a bar from the best rank.</summary>
        public static bool SaveRanksChart(BenchmarkSummary summary, string path, int width = 900, int height = 420)
        {
            if (summary.AverageRanks.Count < 2)
                return false;
            var plot = new Plot();
            var items = summary.AverageRanks.OrderBy(kv => kv.Value).ToArray();
            for (int i = 0; i < items.Length; i++)
            {
                var (name, rank) = (items[i].Key, items[i].Value);
                var mark = plot.Add.Marker(rank, i);
                mark.Size = name == DynMoEBenchmark.DynMoEName ? 14 : 10;
                mark.Color = name == DynMoEBenchmark.DynMoEName ? Colors.Crimson : Colors.SteelBlue;
                var txt = plot.Add.Text($"{name} ({rank.ToString("F2", CultureInfo.InvariantCulture)})", rank, i);
                txt.LabelOffsetX = 10;
                txt.LabelAlignment = Alignment.MiddleLeft;
                txt.LabelFontSize = 12;
            }
            if (summary.CriticalDifference is double cd)
            {
                double best = items[0].Value;
                var bar = plot.Add.Line(best, items.Length, best + cd, items.Length);
                bar.LineWidth = 4;
                bar.Color = Colors.DarkOrange;
                var label = plot.Add.Text($"critical difference {cd.ToString("F2", CultureInfo.InvariantCulture)} (Nemenyi, α = 0.05)", best, items.Length);
                label.LabelOffsetY = -6;
                label.LabelAlignment = Alignment.LowerLeft;
                label.LabelFontSize = 11;
            }
            plot.Axes.SetLimitsX(0.5, Math.Max(items[^1].Value, items[0].Value + (summary.CriticalDifference ?? 0)) + 2.5);
            plot.Axes.SetLimitsY(items.Length + 1, -1);
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
            plot.Title($"Average rank over {summary.RankedDataSets} data sets (lower is better)");
            plot.XLabel("average rank");
            plot.SavePng(path, width, height);
            return true;
        }

        /// <summary>Per data set, each neural candidate's metric minus the data set's TopKGridMean against its activated experts per token.</summary>
        public static bool SaveQualityChart(IReadOnlyList<BenchmarkRow> rows, string path, int width = 900, int height = 560)
        {
            var reference = rows.Where(r => r.Name == DynMoEBenchmark.GridMeanName && r.Succeeded).ToDictionary(r => r.DataSet, r => r.Mean!.Value);
            var neural = rows.Where(r => r.Succeeded && r.ActivatedExpertsPerToken.HasValue && reference.ContainsKey(r.DataSet)
                && (r.Family == "topk" || r.Family == "dynmoe" || r.Family == "dense")).ToArray();
            if (neural.Length == 0)
                return false;
            var plot = new Plot();
            foreach (var (family, label, color, size, shape) in new[]
            {
                ("topk", "top-k grid member", LeaderboardCharts.FamilyColor(CandidateFamily.TopK, Colors.Gray), 7f, MarkerShape.FilledCircle),
                ("dense", "Dense", LeaderboardCharts.FamilyColor(CandidateFamily.Dense, Colors.Gray), 9f, MarkerShape.FilledSquare),
                ("dynmoe", "DynMoE", LeaderboardCharts.FamilyColor(CandidateFamily.DynMoE, Colors.Gray), 12f, MarkerShape.FilledDiamond),
            })
            {
                var pts = neural.Where(r => r.Family == family && (family != "dynmoe" || r.Name == DynMoEBenchmark.DynMoEName)).ToArray();
                if (pts.Length == 0) continue;
                var sc = plot.Add.ScatterPoints(pts.Select(r => r.ActivatedExpertsPerToken!.Value).ToArray(), pts.Select(r => r.Mean!.Value - reference[r.DataSet]).ToArray());
                sc.LegendText = label;
                sc.Color = color;
                sc.MarkerSize = size;
                sc.MarkerShape = shape;
            }
            foreach (var r in neural.Where(r => r.Name == DynMoEBenchmark.DynMoEName))
            {
                var t = plot.Add.Text(r.DataSet, r.ActivatedExpertsPerToken!.Value, r.Mean!.Value - reference[r.DataSet]);
                t.LabelFontSize = 10;
                t.LabelOffsetX = 7;
                t.LabelFontColor = Colors.Crimson;
            }
            AddZeroLine(plot);
            plot.Title("Quality vs activated experts (metric − the data set's TopKGridMean)");
            plot.XLabel("activated experts per token");
            plot.YLabel("metric − TopKGridMean");
            plot.ShowLegend(Alignment.LowerRight);
            plot.SavePng(path, width, height);
            return true;
        }

        /// <summary>The dashed line at 0 of the charts that plot metric differences (no difference).</summary>
        private static void AddZeroLine(Plot plot)
        {
            var zero = plot.Add.HorizontalLine(0);
            zero.LinePattern = LinePattern.Dashed;
            zero.Color = Colors.Gray;
        }

        /// <summary>DynMoE − TopKGridMean and DynMoE − TopKTuned per data set, with 95% corrected t intervals.</summary>
        public static bool SaveDifferencesChart(IReadOnlyList<BenchmarkRow> rows, DynMoEBenchmarkSettings settings, string path, int width = 900, int height = 560)
        {
            var dyn = rows.Where(r => r.Name == DynMoEBenchmark.DynMoEName && r.Succeeded).ToArray();
            if (dyn.Length == 0)
                return false;
            var plot = new Plot();
            var baselines = new[] { (DynMoEBenchmark.GridMeanName, Colors.SteelBlue, -0.15), (DynMoEBenchmark.TunedName, Colors.DarkOrange, 0.15), ("Dense", Colors.DarkGreen, 0.0) }
                .Where(b => rows.Any(r => r.Name == b.Item1)).ToArray();
            bool any = false;
            foreach (var (name, color, offset) in baselines)
            {
                var xs = new List<double>();
                var ys = new List<double>();
                var errs = new List<double>();
                for (int i = 0; i < dyn.Length; i++)
                {
                    var b = rows.LastOrDefault(r => r.DataSet == dyn[i].DataSet && r.Name == name && r.Succeeded);
                    if (b is null || b.Folds.Count != dyn[i].Folds.Count) continue;
                    var p = BenchmarkStatistics.Paired(dyn[i].Folds, b.Folds, 1.0 / (settings.Folds - 1));
                    xs.Add(i + offset);
                    ys.Add(p.Mean);
                    errs.Add(double.IsFinite(p.Upper) ? p.Upper - p.Mean : 0);
                }
                if (xs.Count == 0) continue;
                any = true;
                var sc = plot.Add.ScatterPoints(xs.ToArray(), ys.ToArray());
                sc.Color = color;
                sc.MarkerSize = 9;
                sc.LegendText = "DynMoE − " + name;
                var eb = plot.Add.ErrorBar(xs.ToArray(), ys.ToArray(), errs.ToArray());
                eb.Color = color;
            }
            if (!any)
                return false;
            AddZeroLine(plot);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, dyn.Length).Select(i => (double)i).ToArray(), dyn.Select(d => d.DataSet).ToArray());
            // Horizontal labels: ScottPlot clips rotated ones at the bottom edge.
            plot.Axes.Bottom.TickLabelStyle.FontSize = dyn.Length > 10 ? 9 : 12;
            plot.Title("Per data set: DynMoE − baseline (95% interval)");
            plot.YLabel("metric difference");
            plot.ShowLegend(Alignment.UpperRight);
            plot.SavePng(path, width, height);
            return true;
        }
    }
}
