using ScottPlot;

namespace Microsoft.ML.DynMoE.Experiments.Reports
{
    /// <summary>PNG charts of an experiment, drawn with ScottPlot.</summary>
    public static class LeaderboardCharts
    {
        /// <summary>File name of the accuracy/cost frontier chart.</summary>
        public const string FrontierFileName = "metric-vs-activated-experts.png";
        /// <summary>File name of the DynMoE expert-count chart.</summary>
        public const string ExpertCountFileName = "dynmoe-expert-count.png";
        /// <summary>File name of the training-time chart.</summary>
        public const string TrainingTimeFileName = "training-time.png";

        /// <summary>Writes every chart that has data to <paramref name="directory"/>; returns the paths written.</summary>
        public static IReadOnlyList<string> SaveAll(DynMoEExperimentResult result, string directory, int width = 900, int height = 560)
        {
            Directory.CreateDirectory(directory);
            var written = new List<string>();
            string p = Path.Combine(directory, FrontierFileName);
            if (SaveFrontier(result, p, width, height)) written.Add(p);
            p = Path.Combine(directory, ExpertCountFileName);
            if (SaveExpertCount(result, p, width, height)) written.Add(p);
            p = Path.Combine(directory, TrainingTimeFileName);
            if (SaveTrainingTime(result, p, width, height)) written.Add(p);
            return written;
        }

        /// <summary>The colour of the neural families in every chart, experiment and benchmark alike, so DynMoE is always the red one.</summary>
        internal static Color FamilyColor(CandidateFamily family, Color otherwise) => family switch
        {
            CandidateFamily.DynMoE => Colors.Crimson,
            CandidateFamily.TopK => Colors.SteelBlue,
            CandidateFamily.Dense => Colors.DarkGreen,
            _ => otherwise,
        };

        private static IEnumerable<TrialResult> Ok(DynMoEExperimentResult r) => r.Trials.Where(t => t.Status == TrialStatus.Succeeded && !double.IsNaN(t.Metric));

        /// <summary>Metric against mean activated experts per token for the neural candidates (DynMoE highlighted);
        /// the best non-neural candidate is drawn as a horizontal reference line.</summary>
        public static bool SaveFrontier(DynMoEExperimentResult result, string path, int width = 900, int height = 560)
        {
            var neural = Ok(result).Where(t => t.ActivatedExpertsPerToken.HasValue).ToArray();
            if (neural.Length == 0)
                return false;
            var plot = new Plot();
            foreach (var family in new[] { CandidateFamily.TopK, CandidateFamily.Dense, CandidateFamily.Custom, CandidateFamily.DynMoE })
            {
                var pts = neural.Where(t => t.Family == family).ToArray();
                if (pts.Length == 0) continue;
                var sc = plot.Add.ScatterPoints(pts.Select(t => t.ActivatedExpertsPerToken!.Value).ToArray(), pts.Select(t => t.Metric).ToArray());
                sc.LegendText = family == CandidateFamily.TopK ? "fixed top-k" : family.ToString();
                sc.MarkerSize = family == CandidateFamily.DynMoE ? 16 : 9;
                sc.MarkerShape = family == CandidateFamily.DynMoE ? MarkerShape.FilledDiamond : MarkerShape.FilledCircle;
                sc.Color = FamilyColor(family, otherwise: Colors.Gray);
            }
            // One label per position: candidates with the same cost and metric share a label. Labels of the right-most points are drawn to their left.
            double xMin = neural.Min(t => t.ActivatedExpertsPerToken!.Value), xMax = neural.Max(t => t.ActivatedExpertsPerToken!.Value);
            foreach (var group in neural.GroupBy(t => (X: Math.Round(t.ActivatedExpertsPerToken!.Value, 3), Y: Math.Round(t.Metric, 6))))
            {
                string label = string.Join("; ", group.Select(t => t.Family == CandidateFamily.TopK ? $"k={t.K},E={t.Experts}" : t.Name));
                var txt = plot.Add.Text(label, group.Key.X, group.Key.Y);
                txt.LabelFontSize = 11;
                bool rightMost = xMax > xMin && group.Key.X > xMin + 0.75 * (xMax - xMin);
                txt.LabelAlignment = rightMost ? Alignment.LowerRight : Alignment.LowerLeft;
                txt.LabelOffsetX = rightMost ? -9 : 9;
                txt.LabelOffsetY = 4;
                txt.LabelFontColor = group.Any(t => t.Family == CandidateFamily.DynMoE) ? Colors.Crimson : Colors.Black;
            }
            var bestClassic = Ok(result).Where(t => !t.ActivatedExpertsPerToken.HasValue).OrderBy(t => t.Loss).FirstOrDefault();
            if (bestClassic != null)
            {
                var line = plot.Add.HorizontalLine(bestClassic.Metric);
                line.LineColor = Colors.DarkOrange;
                line.LinePattern = LinePattern.Dashed;
                line.LegendText = $"best ML.NET trainer ({bestClassic.Name})";
            }
            plot.Title($"{result.MetricName} vs activated experts per token");
            plot.XLabel("mean activated experts per token (cost)");
            plot.YLabel(result.NumberOfFolds > 1 ? $"{result.MetricName} (mean over {result.NumberOfFolds} folds)" : $"{result.MetricName} (validation set)");
            plot.ShowLegend(Edge.Bottom);
            plot.Axes.Margins(0.2, 0.12);
            plot.SavePng(path, width, height);
            return true;
        }

        /// <summary>DynMoE's active expert count per layer after each epoch (first fold).</summary>
        public static bool SaveExpertCount(DynMoEExperimentResult result, string path, int width = 900, int height = 560)
        {
            var dyn = Ok(result).FirstOrDefault(t => t.Family == CandidateFamily.DynMoE && t.ExpertCountHistory != null && t.ExpertCountHistory.Any(h => h.Count > 0));
            if (dyn == null)
                return false;
            var plot = new Plot();
            var palette = new[] { Colors.Crimson, Colors.SteelBlue, Colors.DarkGreen, Colors.DarkOrange, Colors.Purple, Colors.Gray };
            for (int layer = 0; layer < dyn.ExpertCountHistory!.Count; layer++)
            {
                var h = dyn.ExpertCountHistory[layer];
                if (h.Count == 0) continue;
                var xs = Enumerable.Range(0, h.Count + 1).Select(i => (double)i).ToArray();
                var ys = new[] { (double)(dyn.Experts ?? h[0]) }.Concat(h.Select(v => (double)v)).ToArray();
                var sc = plot.Add.Scatter(xs, ys);
                sc.ConnectStyle = ConnectStyle.StepHorizontal;
                sc.LineWidth = 2;
                sc.MarkerSize = 5;
                sc.Color = palette[layer % palette.Length];
                sc.LegendText = $"layer {layer}";
            }
            plot.Title($"DynMoE active experts per layer (fold 1, start {dyn.Experts})");
            plot.XLabel("epoch");
            plot.YLabel("active experts");
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
            plot.ShowLegend(Edge.Right);
            plot.Axes.Margins(0.05, 0.2);
            plot.SavePng(path, width, height);
            return true;
        }

        /// <summary>Mean training seconds per fold of every candidate (horizontal bars, DynMoE highlighted).</summary>
        public static bool SaveTrainingTime(DynMoEExperimentResult result, string path, int width = 900, int height = 560)
        {
            var trials = result.Trials.Where(t => t.Status == TrialStatus.Succeeded).OrderBy(t => t.TrainingSeconds).ToArray();
            if (trials.Length == 0)
                return false;
            var plot = new Plot();
            var bars = new List<Bar>();
            var ticks = new List<Tick>();
            for (int i = 0; i < trials.Length; i++)
            {
                var t = trials[i];
                bars.Add(new Bar
                {
                    Position = i,
                    Value = t.TrainingSeconds,
                    FillColor = FamilyColor(t.Family, otherwise: Colors.DarkOrange),
                    Orientation = Orientation.Horizontal,
                });
                ticks.Add(new Tick(i, t.Name));
            }
            plot.Add.Bars(bars);
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
            plot.Axes.Left.MajorTickStyle.Length = 0;
            plot.Title("Training time per candidate (mean seconds per fold)");
            plot.XLabel("seconds");
            plot.Axes.Margins(left: 0, right: 0.1, bottom: 0.02, top: 0.02);
            plot.SavePng(path, width, Math.Max(height, 40 + 26 * trials.Length));
            return true;
        }
    }
}
