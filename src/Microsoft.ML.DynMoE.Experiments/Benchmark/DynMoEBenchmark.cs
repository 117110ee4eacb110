using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments.Internal;
using Microsoft.ML.DynMoE.Experiments.Reports;
using Microsoft.ML.DynMoE.Internal;
using Microsoft.ML.DynMoE.Training;

namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>
    /// Compares DynMoE with fixed top-k MoE, a dense network and ML.NET trainers over several data sets with repeated
    /// stratified k-fold cross-validation. Every candidate of a data set sees the same splits and seeds, and every neural
    /// candidate the same epoch budget. Besides the nine grid members, the top-k family is summarised three ways:
    /// <c>TopKGridMean</c> (per fold, the mean of the grid — what a user picking a setting blindly gets on average),
    /// <c>TopKTuned</c> (per fold, the grid member that scores best on an inner validation split of the training fold —
    /// the fair tuned baseline) and <c>TopKGridBestOnTest</c> (the member best on the test folds — optimistic, a bound).
    /// </summary>
    public sealed class DynMoEBenchmark
    {
        /// <summary>Name of DynMoE with the library defaults.</summary>
        public const string DynMoEName = "DynMoE";
        /// <summary>Per fold, the mean of the grid members.</summary>
        public const string GridMeanName = "TopKGridMean";
        /// <summary>Per fold, the grid member picked on an inner validation split.</summary>
        public const string TunedName = "TopKTuned";
        /// <summary>The grid member with the best mean on the test folds (optimistic).</summary>
        public const string GridBestName = "TopKGridBestOnTest";
        /// <summary>Family of the three grid summaries in benchmark.json.</summary>
        public const string SummaryFamily = "topk-summary";

        private readonly DynMoEBenchmarkSettings _settings;

        /// <summary>Creates a benchmark.</summary>
        public DynMoEBenchmark(DynMoEBenchmarkSettings? settings = null)
        {
            _settings = settings ?? new DynMoEBenchmarkSettings();
            if (_settings.Folds < 2)
                throw new ArgumentOutOfRangeException(nameof(settings), _settings.Folds, "Folds must be at least 2.");
            if (_settings.Repeats < 1)
                throw new ArgumentOutOfRangeException(nameof(settings), _settings.Repeats, "Repeats must be at least 1.");
            var unknown = _settings.Candidates.Where(c => !DynMoEBenchmarkSettings.KnownCandidates.Contains(c.ToLowerInvariant())).ToArray();
            if (unknown.Length > 0)
                throw new ArgumentException($"Unknown candidate(s): {string.Join(", ", unknown)}. Use any of: {string.Join(", ", DynMoEBenchmarkSettings.KnownCandidates)}.", nameof(settings));
        }

        /// <summary>The settings.</summary>
        public DynMoEBenchmarkSettings Settings => _settings;

        /// <summary>Runs every candidate on every data set. Cancellation returns the candidates that finished.</summary>
        public BenchmarkResult Run(IReadOnlyList<BenchmarkDataSet> dataSets, IBenchmarkMonitor? monitor = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(dataSets);
            var clock = Stopwatch.StartNew();
            var rows = new List<BenchmarkRow>();
            bool cancelled = false;
            try
            {
                foreach (var ds in dataSets)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    RunDataSet(ds, rows, monitor, cancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
                cancelled = true;
            }
            return new BenchmarkResult { Rows = rows.ToArray(), Summary = Summarize(rows, _settings), IsCancelled = cancelled, Elapsed = clock.Elapsed };
        }

        /// <summary>The (repeat, fold) splits of <paramref name="labels"/>: for each split, true marks a test row. Classes are
        /// shuffled separately and dealt round-robin to the folds (stratified); numeric labels are stratified by sorting them
        /// into consecutive groups of <paramref name="folds"/> dealt in a shuffled order.</summary>
        public static IReadOnlyList<bool[]> MakeSplits(IReadOnlyList<string> labels, int folds, int repeats, int seed, bool numeric)
        {
            ArgumentNullException.ThrowIfNull(labels);
            int n = labels.Count;
            var splits = new List<bool[]>();
            for (int r = 0; r < repeats; r++)
            {
                var rng = new Random(unchecked(seed * 7919 + r * 104729 + 17));
                var fold = new int[n];
                if (numeric)
                {
                    var order = Enumerable.Range(0, n).OrderBy(i => double.Parse(labels[i], CultureInfo.InvariantCulture)).ThenBy(_ => rng.Next()).ToArray();
                    for (int start = 0; start < n; start += folds)
                    {
                        var slots = Enumerable.Range(0, folds).OrderBy(_ => rng.Next()).ToArray();
                        for (int j = 0; j < folds && start + j < n; j++)
                            fold[order[start + j]] = slots[j];
                    }
                }
                else
                {
                    int next = rng.Next(folds);
                    foreach (var group in Enumerable.Range(0, n).GroupBy(i => labels[i]).OrderBy(g => g.Key, StringComparer.Ordinal))
                    {
                        var members = group.OrderBy(_ => rng.Next()).ToArray();
                        foreach (int i in members)
                        {
                            fold[i] = next;
                            next = (next + 1) % folds;
                        }
                    }
                }
                for (int f = 0; f < folds; f++)
                    splits.Add(fold.Select(x => x == f).ToArray());
            }
            return splits;
        }

        private void RunDataSet(BenchmarkDataSet ds, List<BenchmarkRow> rows, IBenchmarkMonitor? monitor, CancellationToken ct)
        {
            var ml = new MLContext(_settings.Seed);
            var task = ds.Task;
            bool image = ds.ImageHeight != 0 || ds.ImageWidth != 0 || ds.Channels != 0;
            if (image && (ds.ImageHeight <= 0 || ds.ImageWidth <= 0 || ds.Channels < 0))
                throw new ArgumentException($"Data set '{ds.Name}': ImageHeight and ImageWidth must both be positive for an image data set (Channels 0 or more); got {ds.ImageHeight}×{ds.ImageWidth}×{ds.Channels}. Leave all three 0 for tabular or text data.");
            if (image && ds.TextColumnName is not null)
                throw new ArgumentException($"Data set '{ds.Name}': an image data set has pixels, not the text column '{ds.TextColumnName}'. Set either TextColumnName or the image size.");
            if (image && task != ExperimentTask.MulticlassClassification)
                throw new ArgumentException($"Data set '{ds.Name}': image data sets are multiclass (the image trainer classifies into any number of classes); got {task}. Use ExperimentTask.MulticlassClassification with a key label.");
            var labelCol = ds.Data.Schema.GetColumnOrNull(ds.LabelColumnName)
                ?? throw new ArgumentException($"Data set '{ds.Name}' has no label column '{ds.LabelColumnName}'.");
            IDataView data = ds.Data;
            if (task == ExperimentTask.MulticlassClassification && labelCol.Type is not KeyDataViewType)
                data = ml.Transforms.Conversion.MapValueToKey(ds.LabelColumnName).Fit(data).Transform(data);
            data = ml.Data.Cache(data);
            var labels = ReadLabels(data, ds.LabelColumnName);
            int n = labels.Count;
            if (n < _settings.Folds * 2)
                throw new ArgumentException($"Data set '{ds.Name}' has {n} rows; {_settings.Folds}-fold cross-validation needs at least {_settings.Folds * 2}.");
            bool numeric = task == ExperimentTask.Regression;
            var splits = MakeSplits(labels, _settings.Folds, _settings.Repeats, _settings.Seed, numeric);
            var folds = splits.Select(test => (Train: (IDataView)new RowSubsetDataView(data, test.Select(t => !t).ToArray()), Test: (IDataView)new RowSubsetDataView(data, test))).ToArray();

            var experimentSettings = new DynMoEExperimentSettings
            {
                LabelColumnName = ds.LabelColumnName,
                NumberOfEpochs = image ? _settings.ImageEpochs : ds.TextColumnName is null ? _settings.NumberOfEpochs : _settings.TextEpochs,
                ModelDimension = _settings.ModelDimension,
                // Encoders take twice the tabular expert width, as their trainers' defaults (64 / 128) and `dynmoe classification` do.
                ExpertHiddenDimension = ds.TextColumnName is null && !image ? _settings.ExpertHiddenDimension : 2 * _settings.ExpertHiddenDimension,
                NumberOfLayers = _settings.NumberOfLayers,
                NumberOfThreads = _settings.NumberOfThreads,
                TextColumnName = ds.TextColumnName,
                ImageHeight = ds.ImageHeight,
                ImageWidth = ds.ImageWidth,
                Channels = ds.Channels,
            };
            _settings.ConfigureExperiment?.Invoke(experimentSettings);
            string taskName = task switch { ExperimentTask.BinaryClassification => "binary", ExperimentTask.MulticlassClassification => "multiclass", _ => "regression" };
            string metric = MetricName(task);
            var c = _settings.Candidates;
            bool Has(string name) => c.Contains(name);

            var candidates = new List<ExperimentCandidate>();
            if (Has("dynmoe"))
                candidates.Add(ExperimentCandidate.DynMoE());
            foreach (var v in _settings.Variants)
                candidates.Add(ExperimentCandidate.Custom(v.CandidateName, CandidateFamily.DynMoE, ctx => NeuralTrainerFactory.Create(ctx, o =>
                {
                    o.Gating = GatingKind.TopAny;
                    ctx.Settings.ApplyDynMoEOptions(o);
                    v.Configure(o);
                })));
            var grid = new List<ExperimentCandidate>();
            if (Has("topk"))
                foreach (int k in _settings.GridK)
                    foreach (int e in _settings.GridExperts)
                        if (k <= e) grid.Add(ExperimentCandidate.TopK(k, e));
            candidates.AddRange(grid);
            if (Has("dense")) candidates.Add(ExperimentCandidate.Dense());
            if (Has("lightgbm")) candidates.Add(ExperimentCandidate.LightGbm());
            if (Has("fasttree")) candidates.Add(ExperimentCandidate.FastTree());
            if (Has("sdca")) candidates.Add(ExperimentCandidate.Sdca());
            if (Has("lbfgs")) candidates.Add(ExperimentCandidate.Lbfgs());

            BenchmarkRow Row(string name, string family, IReadOnlyList<double>? values, double? activated, double seconds, string? error = null, bool optimistic = false, IReadOnlyList<string>? picked = null)
            {
                bool ok = error is null && values is not null;
                var (mean, std) = ok ? BenchmarkStatistics.MeanStd(values!) : (double.NaN, double.NaN);
                return new BenchmarkRow
                {
                    DataSet = ds.Name, Task = taskName, Name = name, Family = family, Metric = metric,
                    Mean = ok ? mean : null, Std = ok ? std : null, Folds = ok ? values!.ToArray() : Array.Empty<double>(),
                    ActivatedExpertsPerToken = activated, TrainSeconds = seconds, Status = ok ? "succeeded" : "failed", Error = error,
                    Optimistic = optimistic, Picked = picked,
                };
            }

            void Add(BenchmarkRow row)
            {
                rows.Add(row);
                monitor?.CandidateFinished(row, rows);
            }

            var gridResults = new Dictionary<ExperimentCandidate, FoldRun>();
            foreach (var candidate in candidates)
            {
                ct.ThrowIfCancellationRequested();
                monitor?.CandidateStarted(ds.Name, candidate.Name, folds.Length);
                var run = RunCandidate(candidate, task, ds, experimentSettings, folds, ct, (s, total) => monitor?.SplitFinished(ds.Name, candidate.Name, s, total));
                if (candidate.Family == CandidateFamily.TopK && run.Error is null)
                    gridResults[candidate] = run;
                double? activated = run.Activated.Count > 0 ? run.Activated.Average()
                    : candidate.Family == CandidateFamily.TopK ? candidate.K
                    : candidate.Family == CandidateFamily.Dense ? 1 : null;
                Add(Row(candidate.Name, Leaderboard.FamilyName(candidate.Family), run.Error is null ? run.Values : null, activated, run.MeanSeconds, run.Error));
            }

            if (grid.Count == 0)
                return;
            var okGrid = grid.Where(gridResults.ContainsKey).ToArray();
            string? gridError = okGrid.Length == grid.Count ? null : $"{grid.Count - okGrid.Length} of the {grid.Count} grid members failed";
            // Only a complete grid has a mean; with every member failed there is nothing to average (and Average would throw).
            double[]? meanPerFold = gridError is null
                ? Enumerable.Range(0, folds.Length).Select(s => okGrid.Average(g => gridResults[g].Values[s])).ToArray()
                : null;
            Add(Row(GridMeanName, SummaryFamily, meanPerFold, grid.Average(g => (double)g.K!.Value), okGrid.Length > 0 ? okGrid.Average(g => gridResults[g].MeanSeconds) : 0, gridError));
            if (okGrid.Length > 0)
            {
                var best = okGrid.OrderByDescending(g => gridResults[g].Values.Average()).First();
                Add(Row(GridBestName, SummaryFamily, gridResults[best].Values, best.K, gridResults[best].MeanSeconds, gridError, optimistic: true, picked: new[] { $"k={best.K},experts={best.Experts}" }));
            }

            if (!Has("tuned"))
                return;
            ct.ThrowIfCancellationRequested();
            monitor?.CandidateStarted(ds.Name, TunedName, folds.Length);
            try
            {
                if (gridError is not null)
                    throw new InvalidOperationException(gridError);
                var values = new double[folds.Length];
                var picked = new string[folds.Length];
                double seconds = 0, activated = 0;
                for (int s = 0; s < folds.Length; s++)
                {
                    var trainMask = splits[s].Select(t => !t).ToArray();
                    var (innerTrain, innerValidation) = InnerSplit(data, trainMask, labels, numeric, s);
                    ExperimentCandidate? choice = null;
                    double bestScore = double.NegativeInfinity;
                    int split = s;
                    var inner = Parallel(grid.Count, i => FitAndScore(grid[i], task, ds, experimentSettings, innerTrain, innerValidation, SplitSeed(split), ct), ct);
                    for (int i = 0; i < grid.Count; i++)
                    {
                        seconds += inner[i].Seconds;
                        // Strictly better only: on a tie the earlier (cheaper k, then fewer experts) member stays.
                        if (inner[i].Score > bestScore) { bestScore = inner[i].Score; choice = grid[i]; }
                    }
                    // Retraining the picked member on the whole training fold with the split's seed reproduces the grid
                    // member's fold model exactly, so its test score is reused rather than recomputed.
                    values[s] = gridResults[choice!].Values[s];
                    seconds += gridResults[choice!].Seconds[s];
                    activated += choice!.K!.Value;
                    picked[s] = $"k={choice.K},experts={choice.Experts}";
                    monitor?.SplitFinished(ds.Name, TunedName, s + 1, folds.Length);
                }
                Add(Row(TunedName, SummaryFamily, values, activated / folds.Length, seconds / folds.Length, picked: picked));
            }
            catch (Exception ex) when (ex is not OperationCanceledException && ex is not OutOfMemoryException)
            {
                Add(Row(TunedName, SummaryFamily, null, null, 0, ex.Message));
            }
        }

        private int SplitSeed(int split) => unchecked(_settings.Seed + split);

        private (IDataView Train, IDataView Validation) InnerSplit(IDataView data, bool[] trainMask, IReadOnlyList<string> labels, bool numeric, int split)
        {
            var index = Enumerable.Range(0, trainMask.Length).Where(i => trainMask[i]).ToArray();
            int parts = Math.Max(2, (int)Math.Round(1 / _settings.InnerValidationFraction));
            var inner = MakeSplits(index.Select(i => labels[i]).ToArray(), parts, 1, unchecked(_settings.Seed * 31 + split + 1), numeric)[0];
            var innerTrain = new bool[trainMask.Length];
            var innerValidation = new bool[trainMask.Length];
            for (int j = 0; j < index.Length; j++)
            {
                if (inner[j]) innerValidation[index[j]] = true;
                else innerTrain[index[j]] = true;
            }
            return (new RowSubsetDataView(data, innerTrain), new RowSubsetDataView(data, innerValidation));
        }

        private sealed class FoldRun
        {
            public List<double> Values { get; } = new();
            public List<double> Seconds { get; } = new();
            public List<double> Activated { get; } = new();
            public string? Error { get; set; }
            public double MeanSeconds => Seconds.Count > 0 ? Seconds.Average() : 0;
        }

        private FoldRun RunCandidate(ExperimentCandidate candidate, ExperimentTask task, BenchmarkDataSet ds, DynMoEExperimentSettings settings,
            (IDataView Train, IDataView Test)[] folds, CancellationToken ct, Action<int, int> onSplit)
        {
            var run = new FoldRun();
            try
            {
                int done = 0;
                var results = Parallel(folds.Length, s =>
                {
                    var r = FitAndScore(candidate, task, ds, settings, folds[s].Train, folds[s].Test, SplitSeed(s), ct);
                    onSplit(Interlocked.Increment(ref done), folds.Length);
                    return r;
                }, ct);
                foreach (var (score, seconds, activated) in results)
                {
                    run.Values.Add(score);
                    run.Seconds.Add(seconds);
                    if (activated.HasValue) run.Activated.Add(activated.Value);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException && ex is not OutOfMemoryException)
            {
                // First line only: native (libtorch) errors carry a long stack trace.
                string message = ex is AggregateException { InnerException: { } inner } ? inner.Message : ex.Message;
                run.Error = message.Split('\n')[0].Trim();
            }
            return run;
        }

        /// <summary>Runs <paramref name="body"/> for 0..count-1 on up to <see cref="DynMoEBenchmarkSettings.MaximumParallelism"/> threads; results in index order.</summary>
        private T[] Parallel<T>(int count, Func<int, T> body, CancellationToken ct)
        {
            var results = new T[count];
            if (_settings.MaximumParallelism <= 1)
            {
                for (int i = 0; i < count; i++) results[i] = body(i);
                return results;
            }
            try
            {
                System.Threading.Tasks.Parallel.For(0, count, new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = _settings.MaximumParallelism }, i => results[i] = body(i));
            }
            catch (AggregateException ae)
            {
                if (ct.IsCancellationRequested || ae.InnerExceptions.Any(e => e is OperationCanceledException))
                    throw new OperationCanceledException(ct);
                throw ae.InnerExceptions[0];
            }
            return results;
        }

        private static (double Score, double Seconds, double? Activated) FitAndScore(ExperimentCandidate candidate, ExperimentTask task, BenchmarkDataSet ds,
            DynMoEExperimentSettings settings, IDataView train, IDataView test, int seed, CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            var ml = new MLContext(seed);
            using var reg = ct.Register(() => MLContextInternals.CancelExecution(ml));
            var ctx = new CandidateBuildContext(ml, task, settings, seed, ct);
            var trainer = candidate.CreateTrainer(ctx);
            IEstimator<ITransformer> pipeline = ds.Featurizer is not null && ds.TextColumnName is null ? ds.Featurizer(ml).Append(trainer) : trainer;
            var sw = Stopwatch.StartNew();
            ITransformer model;
            try
            {
                model = pipeline.Fit(train);
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                throw new OperationCanceledException(ct);
            }
            double seconds = sw.Elapsed.TotalSeconds;
            double score = Evaluate(ml, task, model.Transform(test), ds.LabelColumnName);
            return (score, seconds, FittedPipeline.ReadRouting(model)?.ActivatedPerToken);
        }

        /// <summary>The metric of a task: macro-accuracy (multiclass), AUC (binary), R² (regression); all higher-is-better.</summary>
        public static string MetricName(ExperimentTask task) => task switch
        {
            ExperimentTask.MulticlassClassification => nameof(MulticlassClassificationMetric.MacroAccuracy),
            ExperimentTask.BinaryClassification => nameof(BinaryClassificationMetric.AreaUnderRocCurve),
            _ => nameof(RegressionMetric.RSquared),
        };

        private static double Evaluate(MLContext ml, ExperimentTask task, IDataView scored, string label) => task switch
        {
            ExperimentTask.MulticlassClassification => MetricValue.Of(ml, scored, label, MulticlassClassificationMetric.MacroAccuracy),
            ExperimentTask.BinaryClassification => MetricValue.Of(ml, scored, label, BinaryClassificationMetric.AreaUnderRocCurve),
            _ => MetricValue.Of(ml, scored, label, RegressionMetric.RSquared),
        };

        private static IReadOnlyList<string> ReadLabels(IDataView data, string labelColumn)
        {
            var column = data.Schema[labelColumn];
            return LabelText.Read(data, column)
                ?? throw new ArgumentException($"Label column '{labelColumn}' has type {column.Type}; the benchmark reads key, Single, Double, Boolean or text labels.");
        }

        /// <summary>The statistics of finished rows: average ranks, comparisons of DynMoE (defaults) with each baseline, and the ablation of any variants.</summary>
        public static BenchmarkSummary Summarize(IReadOnlyList<BenchmarkRow> rows, DynMoEBenchmarkSettings settings)
        {
            ArgumentNullException.ThrowIfNull(rows);
            ArgumentNullException.ThrowIfNull(settings);
            var dataSets = rows.Select(r => r.DataSet).Distinct().ToArray();
            var byKey = rows.GroupBy(r => (r.DataSet, r.Name)).ToDictionary(g => g.Key, g => g.Last());
            BenchmarkRow? Get(string dataSet, string name) => byKey.TryGetValue((dataSet, name), out var r) && r.Succeeded ? r : null;
            double ratio = 1.0 / (settings.Folds - 1);

            var rankNames = new[] { DynMoEName, GridMeanName, TunedName, "Dense", "LightGbm", "FastTree", "Sdca", "Lbfgs" }
                .Where(name => rows.Any(r => r.Name == name)).ToArray();
            var (ranks, cd, rankedSets, chi) = Ranks(rankNames);

            var comparisons = new List<BenchmarkComparison>();
            foreach (var baseline in new[] { GridMeanName, TunedName, GridBestName, "Dense", "LightGbm", "FastTree", "Sdca", "Lbfgs" })
            {
                if (!rows.Any(r => r.Name == baseline) || !rows.Any(r => r.Name == DynMoEName))
                    continue;
                var (w, t, l, diffs) = WinTieLoss(DynMoEName, baseline);
                var wil = BenchmarkStatistics.Wilcoxon(diffs);
                comparisons.Add(new BenchmarkComparison
                {
                    Baseline = baseline, Wins = w, Ties = t, Losses = l, PValue = wil.PValue, DataSets = diffs.Count,
                    MeanDifference = diffs.Count > 0 ? diffs.Average() : double.NaN, Exact = wil.Exact, Optimistic = baseline == GridBestName,
                });
            }

            var activated = rows.Where(r => r.Succeeded && r.ActivatedExpertsPerToken.HasValue && r.Family != "topk")
                .GroupBy(r => r.Name).ToDictionary(g => g.Key, g => Math.Round(g.Average(r => r.ActivatedExpertsPerToken!.Value), 4));

            List<AblationEntry>? ablation = null;
            var variantNames = rows.Where(r => r.Family == "dynmoe").Select(r => r.Name).Distinct().ToArray();
            if (variantNames.Length > 1)
            {
                var names = variantNames.Concat(new[] { GridMeanName, TunedName }.Where(x => rows.Any(r => r.Name == x))).ToArray();
                var (vr, _, _, _) = Ranks(names);
                ablation = variantNames.Select(v =>
                {
                    var (w, t, l, _) = rows.Any(r => r.Name == GridMeanName) ? WinTieLoss(v, GridMeanName) : (0, 0, 0, new List<double>());
                    var ok = rows.Where(r => r.Name == v && r.Succeeded).ToArray();
                    return new AblationEntry
                    {
                        Name = v, AverageRank = vr.TryGetValue(v, out var rank) ? rank : double.NaN,
                        ActivatedExpertsPerToken = ok.Any(r => r.ActivatedExpertsPerToken.HasValue) ? ok.Where(r => r.ActivatedExpertsPerToken.HasValue).Average(r => r.ActivatedExpertsPerToken!.Value) : null,
                        Wins = w, Ties = t, Losses = l, MeanMetric = ok.Length > 0 ? ok.Average(r => r.Mean!.Value) : double.NaN,
                    };
                }).ToList();
            }

            var protocol = new Dictionary<string, string>
            {
                ["folds"] = settings.Folds.ToString(CultureInfo.InvariantCulture),
                ["repeats"] = settings.Repeats.ToString(CultureInfo.InvariantCulture),
                ["seed"] = settings.Seed.ToString(CultureInfo.InvariantCulture),
                ["epochs"] = settings.NumberOfEpochs.ToString(CultureInfo.InvariantCulture),
                ["textEpochs"] = settings.TextEpochs.ToString(CultureInfo.InvariantCulture),
                ["imageEpochs"] = settings.ImageEpochs.ToString(CultureInfo.InvariantCulture),
                ["dataSets"] = dataSets.Length.ToString(CultureInfo.InvariantCulture),
                ["tie"] = "|mean paired difference| < one standard error (Nadeau-Bengio corrected)",
            };
            foreach (var (k, v) in settings.Notes)
                protocol[k] = v;
            return new BenchmarkSummary
            {
                AverageRanks = ranks, CriticalDifference = double.IsNaN(cd) ? null : cd, RankedDataSets = rankedSets,
                FriedmanChiSquare = double.IsNaN(chi) ? null : chi, Comparisons = comparisons, ActivatedExpertsPerToken = activated,
                Ablation = ablation, Protocol = protocol,
            };

            (Dictionary<string, double> Ranks, double Cd, int Sets, double Chi) Ranks(string[] names)
            {
                var complete = dataSets.Where(d => names.All(n => Get(d, n) is not null)).ToArray();
                if (names.Length < 2 || complete.Length == 0)
                    return (new Dictionary<string, double>(), double.NaN, 0, double.NaN);
                var scores = complete.Select(d => (IReadOnlyList<double>)names.Select(n => Get(d, n)!.Mean!.Value).ToArray()).ToArray();
                var f = BenchmarkStatistics.Friedman(scores, higherIsBetter: true);
                var dict = new Dictionary<string, double>();
                for (int i = 0; i < names.Length; i++) dict[names[i]] = Math.Round(f.AverageRanks[i], 4);
                return (dict, f.CriticalDifference, complete.Length, f.ChiSquare);
            }

            (int W, int T, int L, List<double> Diffs) WinTieLoss(string a, string b)
            {
                int w = 0, t = 0, l = 0;
                var diffs = new List<double>();
                foreach (var d in dataSets)
                {
                    var ra = Get(d, a);
                    var rb = Get(d, b);
                    if (ra is null || rb is null || ra.Folds.Count != rb.Folds.Count)
                        continue;
                    var p = BenchmarkStatistics.Paired(ra.Folds, rb.Folds, ratio);
                    diffs.Add(p.Mean);
                    if (!(Math.Abs(p.Mean) >= p.StandardError) || p.Mean == 0) t++;
                    else if (p.Mean > 0) w++;
                    else l++;
                }
                return (w, t, l, diffs);
            }
        }
    }
}
