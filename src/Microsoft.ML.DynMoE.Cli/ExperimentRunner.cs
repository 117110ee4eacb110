using System.Globalization;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Reports;
using Spectre.Console;

namespace Microsoft.ML.DynMoE.Cli
{
    internal sealed class ExperimentArgs
    {
        public string Dataset = "";
        public string LabelColumn = "";
        public bool HasHeader = true;
        public int TrainTimeSeconds = 100;
        public int Folds = 5;
        public string OutputDirectory = "";
        public int Seed;
        public int Epochs = 30;
        public string? Families;
        public int MaxModels = int.MaxValue;
        public int ModelDimension = 64;
        public int Threads = 1;
        public bool Regression;
        /// <summary>Free-text column for the DynMoE text classifier; null detects a lone free-text feature column.</summary>
        public string? TextColumn;
        /// <summary>"scratch" or "minilm": the text candidates' encoder; null is scratch.</summary>
        public string? TextEncoder;
        /// <summary>"HxW" or "HxWxC": the pixel columns of the CSV (or the size images are resized to) form an image.</summary>
        public string? ImageSize;
        /// <summary>A folder with one subfolder of images per label.</summary>
        public string? ImageFolder;
        public int PatchSize;
        public bool InterleavedColors;
        public bool EpochsGiven;
    }

    /// <summary>The classification and regression commands.</summary>
    internal static class ExperimentRunner
    {
        internal static int Run(CliIO io, ExperimentArgs a, CancellationToken ct)
        {
            if (a.TrainTimeSeconds <= 0)
                throw new CliUsageException($"--train-time must be a positive number of seconds; got {a.TrainTimeSeconds}.");
            if (a.Folds < 2)
                throw new CliUsageException($"--folds must be at least 2; got {a.Folds}.");
            if (a.Epochs < 1)
                throw new CliUsageException($"--epochs must be at least 1; got {a.Epochs}.");

            if (a.Threads < 1)
                throw new CliUsageException($"--threads must be at least 1; got {a.Threads}.");
            if (a.ImageFolder is null && string.IsNullOrEmpty(a.Dataset))
                throw new CliUsageException("No data given. Pass --dataset FILE.csv (with --label-col), or --image-folder DIR for a folder of labelled image subfolders.");
            if (a.ImageFolder is null && string.IsNullOrEmpty(a.LabelColumn))
                throw new CliUsageException("No label column given. Pass --label-col NAME (the column of --dataset that holds the label).");
            if (a.ImageFolder is not null && !string.IsNullOrEmpty(a.Dataset))
                throw new CliUsageException("Pass either --dataset or --image-folder, not both.");
            if (a.TextColumn is not null && (a.ImageFolder is not null || a.ImageSize is not null))
                throw new CliUsageException("--text-col and --image-size/--image-folder describe different inputs; pass one of them.");
            var image = a.ImageSize is null ? (ImageShape?)null : ImageShape.Parse(a.ImageSize);
            if (a.ImageFolder is not null && a.Regression)
                throw new CliUsageException("--image-folder trains image classifiers; use 'dynmoe classification'.");
            var ml = new MLContext(a.Seed);
            TabularDataset? ds = null;
            TextLoader? loader = null;
            IDataView data;
            string labelColumn, source;
            if (a.ImageFolder is not null)
            {
                if (image is null)
                    throw new CliUsageException("--image-folder needs --image-size HxW[xC]: the size every image is resized to (C = 1 for grey, 3 for RGB; default 3).");
                data = ImageFolderData.Load(ml, a.ImageFolder, image.Value, out var classes);
                labelColumn = ImageFolderData.LabelColumn;
                source = $"{a.ImageFolder} ({classes} classes)";
            }
            else
            {
                ds = TabularDataset.Infer(a.Dataset, a.LabelColumn, a.HasHeader, numericLabel: a.Regression);
                loader = ds.CreateLoader(ml);
                data = loader.Load(a.Dataset);
                labelColumn = ds.LabelColumn;
                source = a.Dataset;
            }

            int rows = CountRows(data, source);
            if (rows < a.Folds)
                throw new CliUsageException($"Dataset '{source}' has {rows} rows, fewer than --folds {a.Folds}. Use fewer folds or more data.");

            var labelValues = ds?.LabelValues ?? data.GetColumn<string>(labelColumn).Distinct().ToList();
            ExperimentTask task;
            string taskName;
            if (a.Regression)
            {
                task = ExperimentTask.Regression;
                taskName = "regression";
            }
            else if (labelValues.Count < 2)
                throw new CliUsageException($"Label column '{labelColumn}' in '{source}' has {labelValues.Count} distinct value(s); classification needs at least 2 classes. Check --label-col.");
            else if (labelValues.Count == 2 && image is null)
            {
                task = ExperimentTask.BinaryClassification;
                taskName = "binary";
                var map = ds!.BinaryLabelMap();
                data = ml.Transforms.Conversion.MapValue(labelColumn, map, labelColumn).Fit(data).Transform(data);
            }
            else
            {
                task = ExperimentTask.MulticlassClassification;
                taskName = "multiclass";
            }

            string? textColumn = ds is null ? null : ResolveTextColumn(ds, a.TextColumn);
            if (textColumn is not null && task == ExperimentTask.Regression)
                throw new CliUsageException($"Column '{textColumn}' is free text; DynMoE's text trainer classifies. Use 'dynmoe classification', or pass numeric features.");
            if (image is not null && task != ExperimentTask.MulticlassClassification)
                throw new CliUsageException("--image-size trains a multiclass image classifier; use 'dynmoe classification' with at least two classes (a two-class image set is trained as multiclass).");

            // Transformer encoders need far fewer (and far costlier) epochs than the tabular networks.
            int epochs = a.EpochsGiven || (textColumn is null && image is null) ? a.Epochs : (textColumn is not null ? 6 : 10);
            var textEncoder = ParseTextEncoder(a.TextEncoder);
            if (textEncoder != DynMoETextEncoder.Scratch && textColumn is null)
                throw new CliUsageException("--text-encoder applies to a text column; pass --text-col (or a file whose only feature is free text).");
            var settings = new DynMoEExperimentSettings
            {
                TextEncoder = textEncoder,
                Seed = a.Seed,
                LabelColumnName = labelColumn,
                NumberOfEpochs = epochs,
                ModelDimension = a.ModelDimension,
                ExpertHiddenDimension = textColumn is null && image is null ? a.ModelDimension : 2 * a.ModelDimension,
                MaxModels = a.MaxModels,
                NumberOfThreads = a.Threads,
                TextColumnName = textColumn,
                ImageHeight = image?.Height ?? 0,
                ImageWidth = image?.Width ?? 0,
                Channels = image?.Channels ?? 0,
                PatchSize = a.PatchSize,
                InterleavedColors = a.InterleavedColors,
            };
            var experiment = ml.DynMoE().CreateExperiment(settings)
                .SetDataset(data, a.Folds)
                .SetTrainingTimeInSeconds((uint)a.TrainTimeSeconds);
            if (ds is not null && textColumn is null)
                experiment.SetFeaturizer(m => ds.CreateFeaturizer(m));
            if (image is not null && ds is not null)
                CheckPixelCount(ds, image.Value);
            _ = task switch
            {
                ExperimentTask.MulticlassClassification => experiment.SetMulticlassClassificationMetric(MulticlassClassificationMetric.MacroAccuracy),
                ExperimentTask.BinaryClassification => experiment.SetBinaryClassificationMetric(BinaryClassificationMetric.AreaUnderRocCurve),
                _ => experiment.SetRegressionMetric(RegressionMetric.RSquared),
            };
            if (!string.IsNullOrWhiteSpace(a.Families))
            {
                var wanted = new HashSet<string>(a.Families.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
                var known = Enum.GetValues<CandidateFamily>().Select(Leaderboard.FamilyName).ToHashSet();
                var unknown = wanted.Where(w => !known.Contains(w.ToLowerInvariant())).ToArray();
                if (unknown.Length > 0)
                    throw new CliUsageException($"Unknown --families value(s): {string.Join(", ", unknown)}. Use any of: dynmoe, topk, dense, lightgbm, fasttree, sdca, lbfgs.");
                foreach (var f in Enum.GetValues<CandidateFamily>())
                    if (!wanted.Contains(Leaderboard.FamilyName(f)))
                        experiment.RemoveCandidates(f);
            }

            string outDir = CliFiles.CreateOutputDirectory(a.OutputDirectory);

            string inputs = textColumn is not null ? $"text column '{textColumn}' (DynMoE Transformer text classifier; ML.NET candidates on FeaturizeText)"
                : image is not null ? $"{image.Value} images (DynMoE Vision Transformer; ML.NET candidates on the raw pixels)"
                : "features: " + string.Join(", ", ds!.Features.GroupBy(c => c.Purpose).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
            io.Output.WriteLine($"Dataset {source}: {rows} rows, task {taskName}, label '{labelColumn}', {inputs}");
            io.Output.WriteLine($"{experiment.Candidates.Count} candidates, {a.Folds}-fold CV, {epochs} epochs for neural candidates, budget {a.TrainTimeSeconds}s.");

            DynMoEExperimentResult result;
            if (io.Interactive)
                result = RunLive(experiment, ct);
            else
            {
                experiment.SetMonitor(new PlainMonitor(io.Output));
                result = experiment.RunAsync(ct).GetAwaiter().GetResult();
            }

            var board = new Leaderboard(result);
            board.Save(outDir);
            var charts = LeaderboardCharts.SaveAll(result, outDir);
            string? modelPath = null;
            if (result.BestModel != null)
            {
                modelPath = Path.Combine(outDir, "best-model.zip");
                if (loader is not null)
                    ml.Model.Save(result.BestModel, loader, modelPath);
                else
                    ml.Model.Save(result.BestModel, data.Schema, modelPath);
                ds?.SaveSidecar(modelPath, taskName);
            }

            if (io.Interactive)
                AnsiConsole.Write(ToSpectreTable(board, result));
            else
                io.Output.Write(board.ToText());
            if (result.RefitError != null)
                io.Output.WriteLine($"Refitting the best candidate on all rows failed ({result.RefitError}); best-model.zip holds its last-fold model.");
            if (result.IsCancelled)
                io.Output.WriteLine($"Stopped by cancellation: wrote the {result.Trials.Count} completed trial(s).");
            if (result.TimeBudgetExhausted)
                io.Output.WriteLine($"Time budget of {a.TrainTimeSeconds}s used; not tried: {string.Join(", ", result.SkippedCandidates)}.");
            if (result.BestTrial != null)
                io.Output.WriteLine(FormattableString.Invariant($"Best: {result.BestTrial.Name} {result.MetricName} {result.BestTrial.Metric:F4} ± {result.BestTrial.MetricStd:F4}"));
            else if (!result.IsCancelled)
                io.Output.WriteLine("No candidate succeeded; see the errors above and in leaderboard.csv.");
            io.Output.WriteLine($"Wrote {outDir}: leaderboard.json, leaderboard.csv, leaderboard.txt, {string.Join(", ", charts.Select(Path.GetFileName))}{(modelPath != null ? ", best-model.zip" : "")}");
            return result.BestTrial != null || result.IsCancelled ? DynMoECli.ExitOk : DynMoECli.ExitUnexpected;
        }

        /// <summary>The <c>--text-encoder</c> value: scratch (or none) or minilm.</summary>
        internal static DynMoETextEncoder ParseTextEncoder(string? value) => value?.ToLowerInvariant() switch
        {
            null or "scratch" => DynMoETextEncoder.Scratch,
            "minilm" => DynMoETextEncoder.MiniLM,
            _ => throw new CliUsageException($"--text-encoder '{value}' is not known. Pass 'scratch' or 'minilm'."),
        };

        /// <summary>
        /// The text column the DynMoE text classifier reads: <paramref name="requested"/> when given (it must be a free-text
        /// column), otherwise the single free-text column of a file whose other columns are the label or unused. Files that
        /// mix text with numeric or categorical columns stay tabular (their text goes through FeaturizeText).
        /// </summary>
        internal static string? ResolveTextColumn(TabularDataset ds, string? requested)
        {
            if (requested is not null)
            {
                var column = ds.Columns.FirstOrDefault(c => string.Equals(c.Name, requested, StringComparison.Ordinal))
                    ?? throw new CliUsageException($"Text column '{requested}' was not found. Available columns: {string.Join(", ", ds.Columns.Select(c => c.Name))}. Pass one of them to --text-col.");
                if (column.Purpose == ColumnPurpose.Label)
                    throw new CliUsageException($"'{requested}' is the label column; pass the column holding the text to --text-col.");
                if (column.IsNumeric)
                    throw new CliUsageException($"Column '{requested}' holds numbers, not text. Pass a free-text column to --text-col, or leave it out for a tabular experiment.");
                return column.Name;
            }

            var features = ds.Features.ToList();
            return features.Count == 1 && features[0].Purpose == ColumnPurpose.Text ? features[0].Name : null;
        }

        internal static void CheckPixelCount(TabularDataset ds, ImageShape image)
        {
            int numeric = ds.Features.Count(c => c.Purpose == ColumnPurpose.Numeric);
            int others = ds.Features.Count(c => c.Purpose != ColumnPurpose.Numeric);
            if (others > 0 || (image.Channels > 0 ? numeric != image.Height * image.Width * image.Channels : numeric % (image.Height * image.Width) != 0))
                throw new CliUsageException($"--image-size {image} needs the file's feature columns to be {(image.Channels > 0 ? (image.Height * image.Width * image.Channels).ToString(CultureInfo.InvariantCulture) : $"a multiple of {image.Height * image.Width}")} pixel numbers; '{ds.Path}' has {numeric} numeric and {others} other feature columns.");
        }

        internal static int CountRows(IDataView data, string path)
        {
            try
            {
                int n = 0;
                using var cursor = data.GetRowCursor(Array.Empty<DataViewSchema.Column>());
                while (cursor.MoveNext()) n++;
                return n;
            }
            catch (Exception ex) when (ex is FormatException || ex is InvalidOperationException || ex is IOException)
            {
                throw new CliUsageException($"Dataset file '{path}' could not be parsed: {ex.Message}. Check the separator, quoting and --has-header.");
            }
        }

        private static DynMoEExperimentResult RunLive(DynMoEExperiment experiment, CancellationToken ct)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]dynmoe experiment[/]");
            table.AddColumns("#", "Candidate", "Metric", "Act/token", "Experts", "Train s", "Status");
            return LiveTable.Show<DynMoEExperimentResult>(table, refresh =>
            {
                var monitor = new SpectreMonitor(table, refresh);
                experiment.SetMonitor(monitor);
                return (monitor.Tick, experiment.RunAsync(ct));
            });
        }

        private static Table ToSpectreTable(Leaderboard board, DynMoEExperimentResult result)
        {
            var t = new Table().Border(TableBorder.Rounded).Title($"[bold]Leaderboard ({Markup.Escape(result.MetricName)})[/]");
            t.AddColumns("#", "Name", "Family", "k", "Experts", result.MetricName, "Act/token", "Train s", "Rows/s", "Status");
            int i = 1;
            foreach (var tr in board.Trials)
            {
                string name = tr.Family == CandidateFamily.DynMoE ? $"[bold red]{Markup.Escape(tr.Name)}[/]" : Markup.Escape(tr.Name);
                t.AddRow((i++).ToString(CultureInfo.InvariantCulture), name, Leaderboard.FamilyName(tr.Family), tr.K?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    tr.Experts.HasValue ? FormattableString.Invariant($"{tr.Experts}->{tr.FinalExperts:0.#}") : "-",
                    tr.Status == TrialStatus.Succeeded ? FormattableString.Invariant($"{tr.Metric:F4} ± {tr.MetricStd:F4}") : "-",
                    tr.ActivatedExpertsPerToken.HasValue ? tr.ActivatedExpertsPerToken.Value.ToString("F2", CultureInfo.InvariantCulture) : "-",
                    tr.TrainingSeconds.ToString("F2", CultureInfo.InvariantCulture),
                    tr.ScoringRowsPerSecond.HasValue ? tr.ScoringRowsPerSecond.Value.ToString("F0", CultureInfo.InvariantCulture) : "-",
                    tr.Status == TrialStatus.Succeeded ? "[green]ok[/]" : "[red]failed[/]: " + Markup.Escape(tr.Error ?? ""));
            }
            return t;
        }
    }

    /// <summary>One plain line per event (used when output is redirected).</summary>
    internal sealed class PlainMonitor : IMonitor
    {
        private readonly TextWriter _out;
        public PlainMonitor(TextWriter output) => _out = output;

        public void ReportRunningTrial(TrialSettings settings) => _out.WriteLine($"[{settings.TrialId}] {settings.Candidate.Name}: training...");

        public void ReportCompletedTrial(TrialResult r) => _out.WriteLine(FormattableString.Invariant(
            $"[{r.TrialSettings.TrialId}] {r.Name}: {r.MetricName} {r.Metric:F4} ± {r.MetricStd:F4}, activated/token {(r.ActivatedExpertsPerToken.HasValue ? r.ActivatedExpertsPerToken.Value.ToString("F2", CultureInfo.InvariantCulture) : "-")}, experts {(r.Experts.HasValue ? $"{r.Experts}->{r.FinalExperts:0.#}" : "-")}, {r.TrainingSeconds:F2}s/fold"));

        public void ReportBestTrial(TrialResult r) => _out.WriteLine($"[{r.TrialSettings.TrialId}] new best: {r.Name}");

        public void ReportFailTrial(TrialSettings settings, Exception? exception = null) => _out.WriteLine($"[{settings.TrialId}] {settings.Candidate.Name}: FAILED: {exception?.Message}");
    }

    /// <summary>Fills a Spectre table shown by a live display.</summary>
    internal sealed class SpectreMonitor : IMonitor
    {
        private readonly Table _table;
        private readonly Action _refresh;
        private readonly object _gate = new();
        private DateTime _started;
        private int _runningRow = -1;
        private string _runningName = "";

        public SpectreMonitor(Table table, Action refresh) { _table = table; _refresh = refresh; }

        public void Tick()
        {
            lock (_gate)
            {
                if (_runningRow >= 0)
                    _table.UpdateCell(_runningRow, 6, $"[yellow]running {(DateTime.UtcNow - _started).TotalSeconds:F0}s[/]");
            }
        }

        public void ReportRunningTrial(TrialSettings settings)
        {
            lock (_gate)
            {
                _started = DateTime.UtcNow;
                _runningName = settings.Candidate.Name;
                _table.AddRow(settings.TrialId.ToString(CultureInfo.InvariantCulture), Markup.Escape(_runningName), "", "", "", "", "[yellow]running[/]");
                _runningRow = _table.Rows.Count - 1;
            }
            _refresh();
        }

        public void ReportCompletedTrial(TrialResult r)
        {
            lock (_gate)
            {
                if (_runningRow < 0) return;
                _table.UpdateCell(_runningRow, 2, FormattableString.Invariant($"{r.Metric:F4} ± {r.MetricStd:F4}"));
                _table.UpdateCell(_runningRow, 3, r.ActivatedExpertsPerToken.HasValue ? r.ActivatedExpertsPerToken.Value.ToString("F2", CultureInfo.InvariantCulture) : "-");
                _table.UpdateCell(_runningRow, 4, r.Experts.HasValue ? FormattableString.Invariant($"{r.Experts}->{r.FinalExperts:0.#}") : "-");
                _table.UpdateCell(_runningRow, 5, r.TrainingSeconds.ToString("F2", CultureInfo.InvariantCulture));
                _table.UpdateCell(_runningRow, 6, "[green]ok[/]");
                _runningRow = -1;
            }
            _refresh();
        }

        public void ReportBestTrial(TrialResult r)
        {
            lock (_gate)
                _table.Caption($"best so far: {Markup.Escape(r.Name)} {r.Metric.ToString("F4", CultureInfo.InvariantCulture)}");
            _refresh();
        }

        public void ReportFailTrial(TrialSettings settings, Exception? exception = null)
        {
            lock (_gate)
            {
                if (_runningRow >= 0)
                    _table.UpdateCell(_runningRow, 6, "[red]failed[/]: " + Markup.Escape(exception?.Message ?? ""));
                _runningRow = -1;
            }
            _refresh();
        }
    }
}
