using System.CommandLine;
using System.Globalization;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Benchmark;
using Spectre.Console;

namespace Microsoft.ML.DynMoE.Cli
{
    internal sealed class BenchmarkArgs
    {
        public IReadOnlyList<string> Inputs = Array.Empty<string>();
        public int Folds = 5;
        public int Repeats = 3;
        public int Seed;
        public string Task = "auto";
        public string? Candidates;
        public string Output = "dynmoe-benchmark";
        public bool Quick;
        public int? Epochs;
        public int TextEpochs = 6;
        public string? ImageSize;
        public int? ImageEpochs;
        public string? TextEncoder;
        public int? MaximumSequenceLength;
        public int[]? GridK;
        public int[]? GridExperts;
        public string? Variants;
        public int ModelDimension = 64;
        public int Threads = 1;
        public bool FoldsGiven;
        public bool RepeatsGiven;
        public string CommandLine = "";
        public Action<DynMoEExperimentSettings>? Method;
        public bool FromResults;
        public int? Parallel;
        public string? Rename;
    }

    /// <summary>The <c>dynmoe benchmark</c> command: DynMoE against top-k, dense and ML.NET baselines over many data sets, with statistics.</summary>
    internal static class BenchmarkCommand
    {
        internal static System.CommandLine.Command Create(CliIO io, CancellationToken ct)
        {
            var inputs = new Argument<string[]>("inputs") { Description = "A folder holding one subfolder per data set (each with data.csv, label in the column named Label, else the first), or CSV files.", Arity = ArgumentArity.ZeroOrMore };
            var datasets = new Option<string[]>("--datasets") { Description = "The same as the inputs argument: a folder of data-set subfolders, or CSV files.", AllowMultipleArgumentsPerToken = true };
            var folds = new Option<int>("--folds") { Description = "Folds per repeat (stratified). Default 5 (3 with --quick).", DefaultValueFactory = _ => 5 };
            var repeats = new Option<int>("--repeats") { Description = "Repeats of the k-fold split. Default 3 (1 with --quick).", DefaultValueFactory = _ => 3 };
            var seed = new Option<int>("--seed") { Description = "Seed of the splits and the training runs.", DefaultValueFactory = _ => 0 };
            var task = new Option<string>("--task") { Description = "auto | binary | multiclass | regression (auto: 2 label values binary, many numeric values regression, else multiclass).", DefaultValueFactory = _ => "auto" };
            task.AcceptOnlyFromAmong("auto", "binary", "multiclass", "regression");
            var candidates = new Option<string?>("--candidates") { Description = $"Comma-separated candidate groups: {string.Join(", ", DynMoEBenchmarkSettings.KnownCandidates)} (tuned needs topk). Default: all but lbfgs." };
            var output = new Option<string>("--output") { Description = "Output directory: benchmark.json, summary.json, report.md and charts.", DefaultValueFactory = _ => "dynmoe-benchmark" };
            var quick = new Option<bool>("--quick") { Description = "3 folds × 1 repeat, 10 epochs (images too), text data sets skipped: a short run for a first look." };
            var epochs = new Option<int?>("--epochs") { Description = "Epoch budget of every neural candidate. Default 30 (10 with --quick)." };
            var textEpochs = new Option<int>("--text-epochs") { Description = "Epoch budget of the neural candidates on text data sets (the text trainers' own default is 10).", DefaultValueFactory = _ => 6 };
            var imageSize = new Option<string?>("--image-size") { Description = "HxW or HxWxC: every data set's feature columns are the pixels of an image of that size, channel-planar (all of one channel, then the next), and the neural candidates become DynMoE Vision Transformers (the ML.NET candidates train on the pixels). Image sets are multiclass." };
            var imageEpochs = new Option<int?>("--image-epochs") { Description = "Epoch budget of the neural candidates on image data sets. Default 60, the image trainer's own (10 with --quick)." };
            var textEncoder = new Option<string?>("--text-encoder") { Description = "Encoder of the neural text candidates: 'scratch' (a Transformer trained from scratch, the default) or 'minilm' (fine-tune the pretrained all-MiniLM-L6-v2, its FFNs upcycled into experts; the dense candidate keeps them dense)." };
            var maxLength = new Option<int?>("--maximum-sequence-length") { Description = "Most tokens per text for the neural text candidates. Default: 256, or 128 with --text-encoder minilm." };
            var gridK = IntegerList("--grid-k", "The k values of the top-k grid, space- or comma-separated (default 1 2 4).");
            var gridExperts = IntegerList("--grid-experts", "The expert counts of the top-k grid, space- or comma-separated (default 4 8 16); pairs with k > experts are skipped.");
            var variants = new Option<string?>("--variants") { Description = $"DynMoE configurations to run beside the defaults (an ablation): comma-separated names, names joined by '+' to combine, or 'all' (every variant but the text-only frozen-encoder, case-lower and case-none). Known: {string.Join(", ", DynMoEVariantCatalog.Names)}." };
            var dimension = new Option<int>("--model-dimension") { Description = "Residual width of the neural candidates; their expert width too on tabular data, twice it on text.", DefaultValueFactory = _ => 64 };
            var threads = new Option<int>("--threads") { Description = "CPU threads per neural fit.", DefaultValueFactory = _ => 1 };
            var parallel = new Option<int?>("--parallel") { Description = "Fits run at once, each on one thread (results do not depend on it). Default 1 (with --quick: 2 when the machine has 2 or more cores)." };
            var fromResults = new Option<bool>("--from-results") { Description = "Train nothing: the inputs are benchmark.json files (or folders holding one) of runs with the same splits (same --folds, --repeats, --seed); their rows are merged and summarized again." };
            var rename = new Option<string?>("--rename") { Description = "With --from-results: OLD=NEW pairs, comma-separated, applied at once (e.g. to report a variant as DynMoE)." };
            var cmd = new System.CommandLine.Command("benchmark", "Benchmark DynMoE against the top-k grid (mean, tuned, best-on-test), dense, LightGbm, FastTree and SDCA on many data sets with repeated stratified cross-validation, paired intervals, win/tie/loss, Wilcoxon and Friedman ranks.")
            {
                inputs, datasets, folds, repeats, seed, task, candidates, output, quick, epochs, textEpochs, imageSize, imageEpochs, textEncoder, maxLength, gridK, gridExperts, variants, dimension, threads, parallel, fromResults, rename,
            };
            var method = new DynMoEMethodOptions();
            method.AddTo(cmd);
            cmd.SetAction(pr => DynMoECli.Guard(io, () => Run(io, new BenchmarkArgs
            {
                Inputs = (pr.GetValue(inputs) ?? Array.Empty<string>()).Concat(pr.GetValue(datasets) ?? Array.Empty<string>()).ToArray(),
                Folds = pr.GetValue(folds),
                Repeats = pr.GetValue(repeats),
                Seed = pr.GetValue(seed),
                Task = pr.GetValue(task)!,
                Candidates = pr.GetValue(candidates),
                Output = pr.GetValue(output)!,
                Quick = pr.GetValue(quick),
                Epochs = pr.GetValue(epochs),
                TextEpochs = pr.GetValue(textEpochs),
                ImageSize = pr.GetValue(imageSize),
                ImageEpochs = pr.GetValue(imageEpochs),
                TextEncoder = pr.GetValue(textEncoder),
                MaximumSequenceLength = pr.GetValue(maxLength),
                GridK = pr.GetValue(gridK),
                GridExperts = pr.GetValue(gridExperts),
                Variants = pr.GetValue(variants),
                ModelDimension = pr.GetValue(dimension),
                Threads = pr.GetValue(threads),
                FoldsGiven = pr.GetResult(folds) is { Implicit: false },
                RepeatsGiven = pr.GetResult(repeats) is { Implicit: false },
                Method = settings => method.Apply(pr, settings),
                FromResults = pr.GetValue(fromResults),
                Parallel = pr.GetValue(parallel),
                Rename = pr.GetValue(rename),
                CommandLine = "dynmoe " + string.Join(" ", pr.Tokens.Select(t => t.Value.Contains(' ') ? $"\"{t.Value}\"" : t.Value)),
            }, ct)));
            return cmd;
        }

        /// <summary>A list of integers given as separate tokens (<c>1 2</c>) or comma-separated (<c>1,2</c>), as <c>--candidates</c> is.</summary>
        private static Option<int[]?> IntegerList(string name, string description) => new(name)
        {
            Description = description,
            AllowMultipleArgumentsPerToken = true,
            CustomParser = result =>
            {
                var values = new List<int>();
                foreach (var part in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
                {
                    if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                    {
                        result.AddError($"{name} takes whole numbers; got '{part}'.");
                        return null;
                    }
                    values.Add(value);
                }
                if (values.Count == 0)
                    result.AddError($"{name} needs at least one whole number.");
                return values.ToArray();
            },
        };

        /// <summary>The data.csv files of a folder of data sets, or the given files.</summary>
        internal static IReadOnlyList<(string Name, string Path)> ResolveInputs(IReadOnlyList<string> inputs)
        {
            var list = new List<(string, string)>();
            foreach (var input in inputs)
            {
                if (File.Exists(input))
                {
                    string name = Path.GetFileName(input) == "data.csv" ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(input))!) : Path.GetFileNameWithoutExtension(input);
                    list.Add((name, input));
                }
                else if (Directory.Exists(input))
                {
                    if (File.Exists(Path.Combine(input, "data.csv")))
                        list.Add((Path.GetFileName(Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar)), Path.Combine(input, "data.csv")));
                    else
                        foreach (var dir in Directory.GetDirectories(input).OrderBy(d => d, StringComparer.Ordinal))
                            if (File.Exists(Path.Combine(dir, "data.csv")))
                                list.Add((Path.GetFileName(dir), Path.Combine(dir, "data.csv")));
                }
                else
                {
                    throw new CliUsageException($"'{input}' is neither a CSV file nor a folder. Pass a folder of data sets (each subfolder holding data.csv) or CSV files.");
                }
            }
            if (list.Count == 0)
                throw new CliUsageException($"No data set found in {string.Join(", ", inputs)}: a folder needs subfolders holding data.csv.");
            var duplicate = list.GroupBy(x => x.Item1).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new CliUsageException($"Two data sets are named '{duplicate.Key}'; rename one of the files or folders.");
            return list;
        }

        internal static int Run(CliIO io, BenchmarkArgs a, CancellationToken ct)
        {
            if (a.Inputs.Count == 0)
                throw new CliUsageException("No data sets given. Pass a folder of data-set subfolders (or CSV files) as --datasets DIR or as arguments.");
            int folds = a.FoldsGiven || !a.Quick ? a.Folds : 3;
            int repeats = a.RepeatsGiven || !a.Quick ? a.Repeats : 1;
            int epochs = a.Epochs ?? (a.Quick ? 10 : 30);
            if (folds < 2) throw new CliUsageException($"--folds must be at least 2; got {folds}.");
            if (repeats < 1) throw new CliUsageException($"--repeats must be at least 1; got {repeats}.");
            if (epochs < 1) throw new CliUsageException($"--epochs must be at least 1; got {epochs}.");
            if (a.TextEpochs < 1) throw new CliUsageException($"--text-epochs must be at least 1; got {a.TextEpochs}.");
            int imageEpochs = a.ImageEpochs ?? (a.Quick ? 10 : 60);
            if (imageEpochs < 1) throw new CliUsageException($"--image-epochs must be at least 1; got {imageEpochs}.");
            var image = a.ImageSize is null ? (ImageShape?)null : ImageShape.Parse(a.ImageSize);
            if (image is not null && (a.TextEncoder is not null || a.MaximumSequenceLength is not null))
                throw new CliUsageException("--text-encoder and --maximum-sequence-length describe text data sets; --image-size reads every data set as images. Pass one or the other.");
            if (image is not null && a.Task is "binary" or "regression")
                throw new CliUsageException($"--image-size trains multiclass image classifiers; --task {a.Task} does not apply (a two-class image set is trained as multiclass).");
            if (a.Threads < 1) throw new CliUsageException($"--threads must be at least 1; got {a.Threads}.");
            var settings = new DynMoEBenchmarkSettings
            {
                Folds = folds, Repeats = repeats, Seed = a.Seed, NumberOfEpochs = epochs, TextEpochs = a.TextEpochs, ImageEpochs = imageEpochs, ModelDimension = a.ModelDimension,
                ExpertHiddenDimension = a.ModelDimension, NumberOfThreads = a.Threads,
                MaximumParallelism = a.Parallel ?? (a.Quick ? Math.Min(2, Environment.ProcessorCount) : 1),
            };
            if (a.GridK is { Length: > 0 })
                settings.GridK = a.GridK.Any(k => k < 1) ? throw new CliUsageException("--grid-k values must be at least 1.") : a.GridK.Distinct().ToArray();
            if (a.GridExperts is { Length: > 0 })
                settings.GridExperts = a.GridExperts.Any(e => e < 1) ? throw new CliUsageException("--grid-experts values must be at least 1.") : a.GridExperts.Distinct().ToArray();
            if (!settings.GridK.Any(k => settings.GridExperts.Any(e => k <= e)))
                throw new CliUsageException($"The top-k grid is empty: every --grid-k value exceeds every --grid-experts value ({string.Join(" ", settings.GridExperts)}).");
            if (settings.MaximumParallelism < 1)
                throw new CliUsageException($"--parallel must be at least 1; got {settings.MaximumParallelism}.");
            if (!string.IsNullOrWhiteSpace(a.Candidates))
            {
                var wanted = a.Candidates.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => c.ToLowerInvariant()).ToArray();
                var unknown = wanted.Where(w => !DynMoEBenchmarkSettings.KnownCandidates.Contains(w)).ToArray();
                if (unknown.Length > 0)
                    throw new CliUsageException($"Unknown --candidates value(s): {string.Join(", ", unknown)}. Use any of: {string.Join(", ", DynMoEBenchmarkSettings.KnownCandidates)}.");
                if (wanted.Contains("tuned") && !wanted.Contains("topk"))
                    throw new CliUsageException("--candidates tuned needs topk too: TopKTuned picks one of the grid members.");
                settings.Candidates = new HashSet<string>(wanted, StringComparer.OrdinalIgnoreCase);
            }
            if (!string.IsNullOrWhiteSpace(a.Variants))
            {
                try
                {
                    foreach (var v in DynMoEVariantCatalog.Parse(a.Variants))
                        settings.Variants.Add(v);
                }
                catch (ArgumentException ex)
                {
                    throw new CliUsageException(ex.Message.Split(" (Parameter")[0] + " Pass them to --variants.");
                }
            }
            settings.Notes["quick"] = a.Quick ? "true" : "false";
            var encoder = ExperimentRunner.ParseTextEncoder(a.TextEncoder);
            if (a.MaximumSequenceLength is < 1)
                throw new CliUsageException($"--maximum-sequence-length must be at least 1; got {a.MaximumSequenceLength}.");
            settings.ConfigureExperiment = s =>
            {
                a.Method?.Invoke(s);
                s.TextEncoder = encoder;
                s.MaximumSequenceLength = a.MaximumSequenceLength;
            };
            settings.Notes["textEncoder"] = encoder.ToString();
            if (image is not null)
                settings.Notes["imageSize"] = image.Value.ToString();
            settings.Notes["maximumSequenceLength"] = a.MaximumSequenceLength?.ToString(CultureInfo.InvariantCulture) ?? "default";
            settings.Notes["grid"] = $"k {string.Join(" ", settings.GridK)} × experts {string.Join(" ", settings.GridExperts)}";
            settings.Notes["modelDimension"] = a.ModelDimension.ToString(CultureInfo.InvariantCulture);

            if (a.FromResults)
                return Resummarize(io, a, settings);
            var files = ResolveInputs(a.Inputs);
            var dataSets = new List<BenchmarkDataSet>();
            var skipped = new List<string>();
            foreach (var (name, path) in files)
            {
                var ds = LoadDataSet(name, path, a.Task, a.Quick, image, out string? why);
                if (ds is null) { skipped.Add($"{name} ({why})"); continue; }
                dataSets.Add(ds);
            }
            string outDir = CliFiles.CreateOutputDirectory(a.Output);

            io.Output.WriteLine($"Benchmark: {dataSets.Count} data set(s) ({string.Join(", ", dataSets.Select(d => d.Name))}), {repeats}×{folds}-fold CV, {epochs} epochs{(dataSets.Any(d => d.TextColumnName is not null) ? $" ({a.TextEpochs} on text)" : "")}{(image is not null ? $" ({imageEpochs} on {image} images)" : "")}, seed {a.Seed}{(a.Quick ? ", quick" : "")}.");
            if (skipped.Count > 0)
                io.Output.WriteLine($"Skipped: {string.Join("; ", skipped)}.");
            var benchmark = new DynMoEBenchmark(settings);
            BenchmarkResult result;
            if (io.Interactive)
                result = RunLive(benchmark, dataSets, settings, outDir, ct);
            else
                result = benchmark.Run(dataSets, new PlainBenchmarkMonitor(io.Output, settings, outDir), ct);

            var written = BenchmarkReport.SaveAll(result, settings, outDir, a.CommandLine);
            var s = result.Summary;
            io.Output.WriteLine();
            io.Output.WriteLine($"Average ranks over {s.RankedDataSets} data set(s) (1 = best; critical difference {(s.CriticalDifference?.ToString("F2", CultureInfo.InvariantCulture) ?? "–")}):");
            foreach (var (name, rank) in s.AverageRanks.OrderBy(kv => kv.Value))
                io.Output.WriteLine(FormattableString.Invariant($"  {name,-20} {rank:F2}"));
            foreach (var c in s.Comparisons)
                io.Output.WriteLine(FormattableString.Invariant($"DynMoE vs {c.Baseline}{(c.Optimistic ? " (optimistic)" : "")}: {c.Wins} wins / {c.Ties} ties / {c.Losses} losses, mean difference {c.MeanDifference:+0.0000;-0.0000;0.0000}, Wilcoxon p = {c.PValue:F3}"));
            foreach (var failed in result.Rows.Where(r => !r.Succeeded))
                io.Output.WriteLine($"FAILED {failed.DataSet} / {failed.Name}: {failed.Error}");
            if (result.IsCancelled)
                io.Output.WriteLine($"Stopped by cancellation: wrote the {result.Rows.Count} finished candidate row(s).");
            io.Output.WriteLine($"Wrote {outDir}: {string.Join(", ", written.Select(Path.GetFileName))}");
            return DynMoECli.ExitOk;
        }

        private static int Resummarize(CliIO io, BenchmarkArgs a, DynMoEBenchmarkSettings settings)
        {
            var rows = new List<BenchmarkRow>();
            foreach (var input in a.Inputs)
            {
                string file = Directory.Exists(input) ? Path.Combine(input, BenchmarkReport.RowsFileName) : input;
                if (!File.Exists(file))
                    throw new CliUsageException($"--from-results: '{file}' does not exist. Pass benchmark.json files or folders holding one.");
                rows.AddRange(System.Text.Json.JsonSerializer.Deserialize<List<BenchmarkRow>>(File.ReadAllText(file), new System.Text.Json.JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals })
                    ?? throw new CliUsageException($"--from-results: '{file}' holds no rows."));
            }
            var renames = (a.Rename ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => p.Split('='))
                .Select(p => p.Length == 2 ? (Old: p[0], New: p[1]) : throw new CliUsageException($"--rename needs OLD=NEW pairs; got '{string.Join("=", p)}'."))
                .ToDictionary(p => p.Old, p => p.New);
            rows = rows.Select(r => renames.TryGetValue(r.Name, out var n) ? Renamed(r, n) : r).ToList();
            var duplicate = rows.GroupBy(r => (r.DataSet, r.Name)).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new CliUsageException($"--from-results: '{duplicate.Key.Name}' on '{duplicate.Key.DataSet}' appears in more than one input; pass each candidate once (or --rename one of them).");
            // The paired tests' correction for overlapping training folds depends on the fold count, which the rows do not
            // record: check it against the number of per-fold values instead of trusting the defaults.
            int expected = settings.Folds * settings.Repeats;
            var mismatch = rows.FirstOrDefault(r => r.Folds.Count > 0 && r.Folds.Count != expected);
            if (mismatch is not null)
                throw new CliUsageException($"--from-results: '{mismatch.Name}' on '{mismatch.DataSet}' has {mismatch.Folds.Count} fold values, but --folds {settings.Folds} × --repeats {settings.Repeats} is {expected}. Pass the --folds and --repeats of the runs being merged (--quick runs: --folds 3 --repeats 1).");
            var result = new BenchmarkResult { Rows = rows, Summary = DynMoEBenchmark.Summarize(rows, settings) };
            var written = BenchmarkReport.SaveAll(result, settings, Path.GetFullPath(a.Output), a.CommandLine);
            io.Output.WriteLine($"Merged {rows.Count} rows; wrote {string.Join(", ", written.Select(Path.GetFileName))}");
            return DynMoECli.ExitOk;
        }

        private static BenchmarkRow Renamed(BenchmarkRow r, string name) => new()
        {
            DataSet = r.DataSet, Task = r.Task, Name = name, Family = r.Family, Metric = r.Metric, Mean = r.Mean, Std = r.Std, Folds = r.Folds,
            ActivatedExpertsPerToken = r.ActivatedExpertsPerToken, TrainSeconds = r.TrainSeconds, Status = r.Status, Error = r.Error,
            Optimistic = r.Optimistic, Picked = r.Picked,
        };

        private static BenchmarkDataSet? LoadDataSet(string name, string path, string taskOption, bool quick, ImageShape? image, out string? skipReason)
        {
            skipReason = null;
            var header = TabularDataset.Split(File.ReadLines(path).FirstOrDefault() ?? "", ',');
            string label = header.Contains("Label") ? "Label" : header.FirstOrDefault()?.Trim() ?? throw new CliUsageException($"'{path}' is empty.");
            var probe = TabularDataset.Infer(path, label, hasHeader: true, numericLabel: false);
            var values = probe.LabelValues;
            bool allNumeric = values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            string task = image is not null ? "multiclass"
                : taskOption != "auto" ? taskOption
                : values.Count == 2 ? "binary"
                : allNumeric && values.Count > 20 ? "regression"
                : "multiclass";
            var ds = task == "regression" ? TabularDataset.Infer(path, label, hasHeader: true, numericLabel: true) : probe;
            if (task != "regression" && values.Count < 2)
                throw new CliUsageException($"Data set '{name}': label column '{label}' has {values.Count} distinct value(s); classification needs 2 or more.{(image is not null ? " An image data set needs images of at least two classes." : " Pass --task regression if it is numeric.")}");
            if (task == "binary" && values.Count != 2)
                throw new CliUsageException($"Data set '{name}': --task binary needs 2 label values, found {values.Count}.");
            string? text = image is null ? ExperimentRunner.ResolveTextColumn(ds, null) : null;
            if (image is not null)
                ExperimentRunner.CheckPixelCount(ds, image.Value);
            if (text is not null && quick)
            {
                skipReason = "text data set: its Transformer candidates do not fit the --quick budget; run without --quick to include it";
                return null;
            }
            var ml = new MLContext(0);
            IDataView data = ds.CreateLoader(ml).Load(path);
            if (task == "binary")
                data = ml.Transforms.Conversion.MapValue(label, ds.BinaryLabelMap(), label).Fit(data).Transform(data);
            return new BenchmarkDataSet
            {
                Name = name, Data = data, LabelColumnName = label, TextColumnName = text,
                Task = task switch { "binary" => ExperimentTask.BinaryClassification, "regression" => ExperimentTask.Regression, _ => ExperimentTask.MulticlassClassification },
                Featurizer = text is null ? m => ds.CreateFeaturizer(m) : null,
                ImageHeight = image?.Height ?? 0, ImageWidth = image?.Width ?? 0, Channels = image?.Channels ?? 0,
            };
        }

        private static BenchmarkResult RunLive(DynMoEBenchmark benchmark, IReadOnlyList<BenchmarkDataSet> dataSets, DynMoEBenchmarkSettings settings, string outDir, CancellationToken ct)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]dynmoe benchmark[/]");
            table.AddColumns("Data set", "Candidate", "Metric", "Act/token", "Train s/fold", "Status");
            return LiveTable.Show<BenchmarkResult>(table, _ =>
            {
                var monitor = new LiveBenchmarkMonitor(table, settings, outDir);
                return (monitor.Tick, System.Threading.Tasks.Task.Run(() => benchmark.Run(dataSets, monitor, ct)));
            });
        }

        internal static string Describe(BenchmarkRow r) => r.Succeeded
            ? FormattableString.Invariant($"{r.Metric} {r.Mean:F4} ± {r.Std:F4}")
            : "FAILED: " + r.Error;
    }

    /// <summary>One line per finished candidate; benchmark.json and summary.json are rewritten after each, so a killed run keeps them.</summary>
    internal sealed class PlainBenchmarkMonitor : IBenchmarkMonitor
    {
        private readonly TextWriter _out;
        private readonly DynMoEBenchmarkSettings _settings;
        private readonly string _dir;

        public PlainBenchmarkMonitor(TextWriter output, DynMoEBenchmarkSettings settings, string dir) { _out = output; _settings = settings; _dir = dir; }

        private readonly object _gate = new();
        private readonly System.Diagnostics.Stopwatch _candidate = new();

        public void CandidateStarted(string dataSet, string candidate, int splits)
        {
            lock (_gate)
                _candidate.Restart();
        }

        // A log line per split, so that a long run (a pretrained encoder's fits take minutes) shows it is moving.
        public void SplitFinished(string dataSet, string candidate, int split, int splits)
        {
            lock (_gate)
                _out.WriteLine(FormattableString.Invariant($"  {dataSet} / {candidate}: {split} of {splits} splits done, {_candidate.Elapsed.TotalSeconds:F0} s"));
        }

        public void CandidateFinished(BenchmarkRow row, IReadOnlyList<BenchmarkRow> rowsSoFar)
        {
            lock (_gate)
                _out.WriteLine(FormattableString.Invariant($"{row.DataSet} / {row.Name}: {BenchmarkCommand.Describe(row)}{(row.ActivatedExpertsPerToken.HasValue ? $", {row.ActivatedExpertsPerToken:F2} experts/token" : "")}, {row.TrainSeconds:F2} s/fold"));
            BenchmarkReport.SaveData(rowsSoFar, DynMoEBenchmark.Summarize(rowsSoFar, _settings), _dir);
        }
    }

    /// <summary>Fills a Spectre table: one row per finished candidate, a running row with its split and elapsed time.</summary>
    internal sealed class LiveBenchmarkMonitor : IBenchmarkMonitor
    {
        private readonly Table _table;
        private readonly DynMoEBenchmarkSettings _settings;
        private readonly string _dir;
        private readonly object _gate = new();
        private int _runningRow = -1;
        private DateTime _started;
        private string _progress = "";

        public LiveBenchmarkMonitor(Table table, DynMoEBenchmarkSettings settings, string dir) { _table = table; _settings = settings; _dir = dir; }

        public void Tick()
        {
            lock (_gate)
                if (_runningRow >= 0)
                    _table.UpdateCell(_runningRow, 5, $"[yellow]running {_progress} {(DateTime.UtcNow - _started).TotalSeconds:F0}s[/]");
        }

        public void CandidateStarted(string dataSet, string candidate, int splits)
        {
            lock (_gate)
            {
                _started = DateTime.UtcNow;
                _progress = $"0/{splits}";
                _table.AddRow(Markup.Escape(dataSet), Markup.Escape(candidate), "", "", "", "[yellow]running[/]");
                _runningRow = _table.Rows.Count - 1;
            }
        }

        public void SplitFinished(string dataSet, string candidate, int split, int splits)
        {
            lock (_gate)
                _progress = $"{split}/{splits}";
        }

        public void CandidateFinished(BenchmarkRow row, IReadOnlyList<BenchmarkRow> rowsSoFar)
        {
            lock (_gate)
            {
                int index = _runningRow;
                if (index < 0 || row.Name is DynMoEBenchmark.GridMeanName or DynMoEBenchmark.GridBestName)
                {
                    _table.AddRow(Markup.Escape(row.DataSet), Markup.Escape(row.Name), "", "", "", "");
                    index = _table.Rows.Count - 1;
                }
                _table.UpdateCell(index, 2, Markup.Escape(row.Succeeded ? FormattableString.Invariant($"{row.Mean:F4} ± {row.Std:F4}") : "-"));
                _table.UpdateCell(index, 3, row.ActivatedExpertsPerToken?.ToString("F2", CultureInfo.InvariantCulture) ?? "-");
                _table.UpdateCell(index, 4, row.TrainSeconds.ToString("F2", CultureInfo.InvariantCulture));
                _table.UpdateCell(index, 5, row.Succeeded ? "[green]ok[/]" : "[red]failed[/]: " + Markup.Escape(row.Error ?? ""));
                if (index == _runningRow) _runningRow = -1;
            }
            BenchmarkReport.SaveData(rowsSoFar, DynMoEBenchmark.Summarize(rowsSoFar, _settings), _dir);
        }
    }
}
