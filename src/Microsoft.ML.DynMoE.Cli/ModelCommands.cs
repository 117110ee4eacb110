using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Internal;
using Microsoft.ML.DynMoE.Experiments.Reports;

namespace Microsoft.ML.DynMoE.Cli
{
    internal sealed class TrainArgs
    {
        public string Dataset = "";
        public string LabelColumn = "";
        public bool HasHeader = true;
        public string Task = "";
        public string Gating = "top-any";
        public int K = 2;
        public int Experts = 4;
        public int Epochs = 30;
        public int ModelDimension = 64;
        public int Seed;
        public string ModelPath = "";
        public int Threads = 1;
        /// <summary>Applies the DynMoE method flags to the settings.</summary>
        public Action<DynMoEExperimentSettings>? Method;
    }

    /// <summary>train, predict and inspect.</summary>
    internal static class ModelCommands
    {
        internal static int Train(CliIO io, TrainArgs a, CancellationToken ct)
        {
            if (a.Epochs < 1)
                throw new CliUsageException($"--epochs must be at least 1; got {a.Epochs}.");
            if (a.Experts < 1)
                throw new CliUsageException($"--initial-experts must be at least 1; got {a.Experts}.");
            if (a.Gating == "top-k" && (a.K < 1 || a.K > a.Experts))
                throw new CliUsageException($"--top-k must be between 1 and --initial-experts ({a.Experts}); got {a.K}.");
            if (a.Threads < 1)
                throw new CliUsageException($"--threads must be at least 1; got {a.Threads}.");
            bool regression = a.Task == "regression";
            var ds = TabularDataset.Infer(a.Dataset, a.LabelColumn, a.HasHeader, numericLabel: regression);
            var ml = new MLContext(a.Seed);
            var loader = ds.CreateLoader(ml);
            IDataView data = loader.Load(a.Dataset);
            int rows = ExperimentRunner.CountRows(data, a.Dataset);
            ExperimentTask task = a.Task switch
            {
                "binary" => ExperimentTask.BinaryClassification,
                "multiclass" => ExperimentTask.MulticlassClassification,
                _ => ExperimentTask.Regression,
            };
            if (task == ExperimentTask.BinaryClassification)
            {
                if (ds.LabelValues.Count != 2)
                    throw new CliUsageException($"--task binary needs exactly 2 values in label column '{ds.LabelColumn}', found {ds.LabelValues.Count} ({string.Join(", ", ds.LabelValues.Take(5))}). Use --task multiclass.");
                data = ml.Transforms.Conversion.MapValue(ds.LabelColumn, ds.BinaryLabelMap(), ds.LabelColumn).Fit(data).Transform(data);
            }
            else if (task == ExperimentTask.MulticlassClassification && ds.LabelValues.Count < 2)
                throw new CliUsageException($"--task multiclass needs at least 2 classes in label column '{ds.LabelColumn}', found {ds.LabelValues.Count}.");

            string modelPath = CliFiles.PrepareOutputFile(a.ModelPath);

            var settings = new DynMoEExperimentSettings { Seed = a.Seed, LabelColumnName = ds.LabelColumn, NumberOfEpochs = a.Epochs, ModelDimension = a.ModelDimension, ExpertHiddenDimension = a.ModelDimension, NumberOfThreads = a.Threads };
            a.Method?.Invoke(settings);
            var progress = new LineProgress(io.Output);
            Action<DynMoETrainerOptionsBase> configure = o => o.Progress = progress;
            var candidate = a.Gating switch
            {
                "top-k" => ExperimentCandidate.TopK(a.K, a.Experts, configure),
                "dense" => ExperimentCandidate.Dense(configure: configure),
                _ => ExperimentCandidate.DynMoE(a.Experts, configure),
            };
            var experiment = ml.DynMoE().CreateExperiment(settings).SetFeaturizer(m => ds.CreateFeaturizer(m));
            io.Output.WriteLine($"Training {candidate.Name} ({a.Task}) on {rows} rows of {a.Dataset} for {a.Epochs} epochs...");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var model = experiment.BuildFullPipeline(candidate, ml, task, a.Seed, ct, data.Schema).Fit(data);
            ml.Model.Save(model, loader, modelPath);
            ds.SaveSidecar(modelPath, a.Task);
            io.Output.WriteLine(FormattableString.Invariant($"Trained in {sw.Elapsed.TotalSeconds:F1}s; saved {modelPath}"));
            var p = FittedPipeline.FindModel(model);
            if (p != null)
                WriteRouting(io.Output, p.Routing, "training data");
            return DynMoECli.ExitOk;
        }

        private sealed class LineProgress : IProgress<DynMoETrainingProgress>
        {
            private readonly TextWriter _out;
            public LineProgress(TextWriter output) => _out = output;
            public void Report(DynMoETrainingProgress p) => _out.WriteLine(FormattableString.Invariant(
                $"epoch {p.Epoch}/{p.NumberOfEpochs} loss {p.TrainingLoss:F4}{(p.ValidationLoss.HasValue ? $" val {p.ValidationLoss:F4}" : "")} experts [{string.Join(",", p.ActiveExperts)}] activated/token {p.ActivatedExpertsPerToken:F2} ({p.Elapsed.TotalSeconds:F1}s)"));
        }

        private static (ITransformer Model, IDataLoader<IMultiStreamSource> Loader, ModelSidecar? Sidecar) LoadModel(MLContext ml, string modelPath)
        {
            var (model, loader) = CliFiles.LoadModel(ml, modelPath);
            ModelSidecar? sidecar = null;
            string sc = TabularDataset.SidecarPath(modelPath);
            if (File.Exists(sc))
                sidecar = JsonSerializer.Deserialize<ModelSidecar>(File.ReadAllText(sc));
            return (model, loader, sidecar);
        }

        /// <summary>If the prediction file lacks the training label column, writes a copy with an empty label column in its place.</summary>
        private static string AlignColumns(string dataset, ModelSidecar? sidecar, out string? tempFile)
        {
            tempFile = null;
            if (sidecar == null || !sidecar.Dataset.HasHeader)
                return dataset;
            var lines = File.ReadAllLines(dataset);
            if (lines.Length == 0)
                throw new CliUsageException($"Dataset file '{dataset}' is empty. Provide a CSV with the training file's header and at least one row.");
            char sep = sidecar.Dataset.Separator;
            var header = TabularDataset.Split(lines[0], sep).Select(h => h.Trim()).ToList();
            var expected = sidecar.Dataset.Columns.OrderBy(c => c.Index).Select(c => c.Name).ToList();
            if (header.SequenceEqual(expected))
                return dataset;
            int labelIdx = sidecar.Dataset.Columns.First(c => c.Purpose == ColumnPurpose.Label).Index;
            var withoutLabel = expected.Where((_, i) => i != labelIdx).ToList();
            if (!header.SequenceEqual(withoutLabel))
            {
                var missing = expected.Where(e => !header.Contains(e) && e != sidecar.Dataset.LabelColumn).ToArray();
                throw new CliUsageException($"Dataset file '{dataset}' does not have the model's columns. " +
                    (missing.Length > 0 ? $"Missing: {string.Join(", ", missing)}. " : "") +
                    $"Expected the training columns in this order: {string.Join(",", expected)} (the label column '{sidecar.Dataset.LabelColumn}' may be omitted).");
            }
            tempFile = Path.Combine(Path.GetTempPath(), "dynmoe-predict-" + Guid.NewGuid().ToString("N") + ".csv");
            using (var w = new StreamWriter(tempFile))
            {
                foreach (var line in lines)
                {
                    if (line.Trim().Length == 0) continue;
                    var cells = TabularDataset.Split(line, sep).Select(Quote).ToList();
                    cells.Insert(Math.Min(labelIdx, cells.Count), "");
                    w.WriteLine(string.Join(sep, cells));
                }
            }
            return tempFile;
        }

        private static string Quote(string s) => s.IndexOfAny(new[] { ',', '"', ';', '\t', '|' }) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

        internal static int Predict(CliIO io, string modelPath, string dataset, string output)
        {
            var ml = new MLContext(0);
            var (model, loader, sidecar) = LoadModel(ml, modelPath);
            CliFiles.RequireDataset(dataset);
            string input = AlignColumns(dataset, sidecar, out string? temp);
            try
            {
                var scored = model.Transform(loader.Load(input));
                var cols = new[] { "PredictedLabel", "Probability", "Score" }.Select(n => scored.Schema.GetColumnOrNull(n)).Where(c => c.HasValue).Select(c => c!.Value).ToArray();
                if (cols.Length == 0)
                    throw new CliUsageException($"Model '{modelPath}' produces no PredictedLabel, Probability or Score column; it is not a prediction model.");
                string full = CliFiles.PrepareOutputFile(output);
                int n = WriteCsv(scored, cols, full);
                io.Output.WriteLine($"Wrote {n} predictions to {full}");
                return DynMoECli.ExitOk;
            }
            catch (FormatException ex)
            {
                throw new CliUsageException($"Dataset file '{dataset}' could not be parsed: {ex.Message}. It must have the training file's columns and separator.");
            }
            finally
            {
                if (temp != null) File.Delete(temp);
            }
        }

        private static int WriteCsv(IDataView scored, DataViewSchema.Column[] cols, string path)
        {
            var headers = new List<string>();
            var writers = new List<Func<string>>();
            using var cursor = scored.GetRowCursor(cols);
            foreach (var c in cols)
            {
                var type = c.Type;
                if (type is VectorDataViewType vt)
                {
                    int size = vt.Size;
                    VBuffer<ReadOnlyMemory<char>> slots = default;
                    if (c.HasSlotNames())
                        c.GetSlotNames(ref slots);
                    var names = slots.DenseValues().Select(s => s.ToString()).ToArray();
                    for (int i = 0; i < size; i++)
                        headers.Add(c.Name + "_" + (i < names.Length && names[i].Length > 0 ? names[i] : i.ToString(CultureInfo.InvariantCulture)));
                    var g = cursor.GetGetter<VBuffer<float>>(c);
                    writers.Add(() =>
                    {
                        VBuffer<float> v = default;
                        g(ref v);
                        return string.Join(",", v.DenseValues().Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
                    });
                    continue;
                }
                headers.Add(c.Name);
                if (type.RawType == typeof(float)) { var g = cursor.GetGetter<float>(c); writers.Add(() => { float v = 0; g(ref v); return v.ToString("R", CultureInfo.InvariantCulture); }); }
                else if (type.RawType == typeof(bool)) { var g = cursor.GetGetter<bool>(c); writers.Add(() => { bool v = false; g(ref v); return v ? "true" : "false"; }); }
                else if (type.RawType == typeof(ReadOnlyMemory<char>)) { var g = cursor.GetGetter<ReadOnlyMemory<char>>(c); writers.Add(() => { ReadOnlyMemory<char> v = default; g(ref v); return Quote(v.ToString()); }); }
                else if (type.RawType == typeof(uint)) { var g = cursor.GetGetter<uint>(c); writers.Add(() => { uint v = 0; g(ref v); return v.ToString(CultureInfo.InvariantCulture); }); }
                else { headers.RemoveAt(headers.Count - 1); }
            }
            int n = 0;
            using var w = new StreamWriter(path, false, new UTF8Encoding(false));
            w.WriteLine(string.Join(",", headers.Select(Quote)));
            while (cursor.MoveNext())
            {
                w.WriteLine(string.Join(",", writers.Select(f => f())));
                n++;
            }
            return n;
        }

        internal static int Inspect(CliIO io, string modelPath, string? dataset, string? labelColumn, string? heatmaps = null)
        {
            var ml = new MLContext(0);
            var (model, loader, sidecar) = LoadModel(ml, modelPath);
            if (FittedPipeline.FindEncoderModel(model) is { } encoder)
                return InspectEncoder(io, encoder, model, loader, modelPath, dataset, labelColumn, heatmaps);
            var p = FittedPipeline.FindModel(model);
            if (p == null)
                throw new CliUsageException($"Model '{modelPath}' contains no DynMoE network (it was trained with another trainer). 'inspect' shows MoE routing only.");
            io.Output.WriteLine($"Model {Path.GetFullPath(modelPath)}{(sidecar != null ? $" ({sidecar.Task}, label '{sidecar.Dataset.LabelColumn}')" : "")}");
            WriteRouting(io.Output, p.Routing, "training data");
            if (dataset != null)
            {
                CliFiles.RequireDataset(dataset);
                string input = AlignColumns(dataset, sidecar, out string? temp);
                try
                {
                    var data = LoadWithLabel(loader, input, dataset, labelColumn);
                    var features = FittedPipeline.TransformUpToPredictor(model, data);
                    string featureCol = features.Schema.GetColumnOrNull("Features") != null ? "Features" : features.Schema[features.Schema.Count - 1].Name;
                    var report = p.ComputeRouting(features, featureCol, labelColumn);
                    WriteRouting(io.Output, report.Overall, Path.GetFileName(dataset));
                    WriteRoutingByLabel(io.Output, labelColumn, report.ByLabel);
                }
                finally
                {
                    if (temp != null) File.Delete(temp);
                }
            }
            return DynMoECli.ExitOk;
        }

        /// <summary>Text and image models: routing per MoE layer; with a data set per class and, for images, heatmap PNGs per patch position.</summary>
        private static int InspectEncoder(CliIO io, DynMoEEncoderModelParameters encoder, ITransformer model, IDataLoader<IMultiStreamSource> loader,
            string modelPath, string? dataset, string? labelColumn, string? heatmaps)
        {
            io.Output.WriteLine($"Model {Path.GetFullPath(modelPath)} (DynMoE encoder, {encoder.NumberOfLayers} blocks, {encoder.NumberOfMoELayers} MoE layers, {encoder.OutputCount} outputs)");
            WriteRouting(io.Output, encoder.Routing, "training data");
            if (dataset == null)
            {
                io.Output.WriteLine("Pass --dataset (and --label-col) to measure routing per class and, for image models, to draw routing heatmaps.");
                return DynMoECli.ExitOk;
            }

            CliFiles.RequireDataset(dataset);
            var data = LoadWithLabel(loader, dataset, dataset, labelColumn);
            // The fitted pipeline produces the encoder's input columns; the routing report reads only those and the label.
            var report = encoder.ComputeRouting(model.Transform(data), labelColumn);
            WriteRouting(io.Output, report.Overall, Path.GetFileName(dataset));
            WriteRoutingByLabel(io.Output, labelColumn, report.ByLabel);

            if (report.PositionRows > 1 && encoder.NumberOfMoELayers > 0)
            {
                string directory = heatmaps ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, Path.GetFileNameWithoutExtension(modelPath) + "-routing");
                var maps = RoutingHeatmaps.SaveAll(report, directory);
                io.Output.WriteLine($"Wrote {maps.Count} routing heatmaps ({report.PositionRows}×{report.PositionColumns} patches, mean activated experts per patch) to {directory}");
            }

            return DynMoECli.ExitOk;
        }

        /// <summary>Loads <paramref name="file"/> (the --dataset file, or its copy aligned to the training columns) and checks that it has the --label-col column.</summary>
        private static IDataView LoadWithLabel(IDataLoader<IMultiStreamSource> loader, string file, string dataset, string? labelColumn)
        {
            var data = loader.Load(file);
            if (labelColumn != null && data.Schema.GetColumnOrNull(labelColumn) == null)
                throw new CliUsageException($"Label column '{labelColumn}' is not in '{dataset}'. Available columns: {string.Join(", ", data.Schema.Select(c => c.Name))}.");
            return data;
        }

        private static void WriteRoutingByLabel(TextWriter w, string? labelColumn, IReadOnlyDictionary<string, DynMoERoutingSummary> byLabel)
        {
            if (labelColumn == null)
                return;
            w.WriteLine($"Per class ('{labelColumn}'): mean activated experts per token");
            foreach (var kv in byLabel.OrderBy(k => k.Key, StringComparer.Ordinal))
                w.WriteLine(FormattableString.Invariant(
                    $"  {kv.Key,-20} {kv.Value.MeanActivatedExpertsPerToken,6:F2}   per layer: {string.Join("  ", kv.Value.Layers.Select(l => $"L{l.Layer}={l.MeanActivatedExpertsPerToken:F2}"))}"));
        }

        private static void WriteRouting(TextWriter w, DynMoERoutingSummary s, string source)
        {
            w.WriteLine(FormattableString.Invariant($"Routing on {source}: mean activated experts per token {s.MeanActivatedExpertsPerToken:F2}"));
            foreach (var l in s.Layers)
            {
                w.WriteLine(FormattableString.Invariant(
                    $"  layer {l.Layer}: gating {l.Gating}, experts {l.InitialExperts} -> {l.ActiveExperts} (max {l.MaximumExperts}), activated/token {l.MeanActivatedExpertsPerToken:F2}"));
                if (l.ExpertLoad.Count > 0)
                    w.WriteLine($"    expert load: {string.Join(" ", l.ExpertLoad)}");
                if (l.ExpertCountHistory.Count > 0)
                    w.WriteLine($"    experts per epoch: {string.Join(" ", l.ExpertCountHistory)}");
            }
        }
    }
}
