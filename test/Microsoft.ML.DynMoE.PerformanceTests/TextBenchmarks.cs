using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// The text classifier on a spam-style corpus (<c>Label,Text</c> CSV, Boolean label):
/// <c>--text-quality FILE</c> trains DynMoE, the top-k grid, dense and ML.NET's <c>FeaturizeText</c> + SDCA / LightGbm on one
/// seeded stratified 80/20 split and prints a Markdown table with exact McNemar tests against <c>FeaturizeText</c> + SDCA;
/// <c>--text-speed FILE</c> measures training tokens/s (DynMoE, top-2, dense encoders of one shape, interleaved in one run) and
/// scoring latency / throughput at 256 tokens beside <c>FeaturizeText</c> + SDCA.
/// </summary>
internal static class TextBenchmarks
{
    public sealed class Message
    {
        public bool Label { get; set; }
        public string Text { get; set; } = "";
    }

    private sealed class Prediction
    {
        public bool PredictedLabel { get; set; }
        public float Score { get; set; }
    }

    private sealed record Result(string Name, double Accuracy, double Auc, double? ExpertsPerToken, double TrainSeconds, double TrainCpuSeconds, bool[] Correct);

    public static IDataView Load(MLContext ml, string path)
        => ml.Data.CreateTextLoader(new[]
        {
            new TextLoader.Column("Label", DataKind.Boolean, 0),
            new TextLoader.Column("Text", DataKind.String, 1),
        }, separatorChar: ',', hasHeader: true, allowQuoting: true).Load(path);

    private static (string Name, Func<MLContext, IEstimator<ITransformer>> Create)[] Candidates(int? epochs)
    {
        DynMoEBinaryTextClassificationTrainer.Options Encoder(GatingKind gating, int k, int experts) => new()
        {
            Gating = gating,
            TopK = k,
            InitialExperts = experts,
            MaximumExperts = gating == GatingKind.TopAny ? new DynMoEBinaryTextClassificationTrainer.Options().MaximumExperts : experts,
            NumberOfEpochs = epochs ?? new DynMoEBinaryTextClassificationTrainer.Options().NumberOfEpochs,
            Seed = 1,
        };
        var list = new List<(string, Func<MLContext, IEstimator<ITransformer>>)>
        {
            // DynMoE runs first so the process's peak working set after it is the DynMoE training peak.
            ("DynMoE", ml => ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options { NumberOfEpochs = epochs ?? new DynMoEBinaryTextClassificationTrainer.Options().NumberOfEpochs, Seed = 1 })),
            ("FeaturizeText + SDCA", ml => ml.Transforms.Text.FeaturizeText("Features", "Text").Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression())),
            ("FeaturizeText + LightGbm", ml => ml.Transforms.Text.FeaturizeText("Features", "Text").Append(ml.BinaryClassification.Trainers.LightGbm())),
            ("Dense", ml => ml.BinaryClassification.Trainers.DynMoETextClassification(Encoder(GatingKind.Dense, 1, 1))),
        };
        foreach (int experts in new[] { 4, 8 })
            foreach (int k in new[] { 1, 2 })
                list.Add(($"TopK(k={k},E={experts})", ml => ml.BinaryClassification.Trainers.DynMoETextClassification(Encoder(GatingKind.TopK, k, experts))));
        return list.ToArray();
    }

    /// <summary>
    /// Trains each candidate (or those named in <paramref name="models"/>) and prints the table. With <paramref name="resultsFolder"/>
    /// every finished candidate is written there (metrics and per-message correctness) and read back instead of retrained, so a
    /// full-corpus run of 15–23 CPU-minutes per encoder can be split across processes and still give paired tests.
    /// </summary>
    public static void Quality(string path, int? epochs, string? resultsFolder, IReadOnlyCollection<string>? models)
    {
        var ml = new MLContext(seed: 1);
        var split = ml.Data.TrainTestSplit(Load(ml, path), testFraction: 0.2, seed: 1);
        int trainRows = split.TrainSet.GetColumn<bool>("Label").Count();
        var truth = split.TestSet.GetColumn<bool>("Label").ToArray();
        Console.WriteLine($"{path}: {trainRows} training and {truth.Length} test messages (TrainTestSplit seed 1), epochs {(epochs?.ToString(CultureInfo.InvariantCulture) ?? "default")}.");
        if (resultsFolder != null)
            Directory.CreateDirectory(resultsFolder);
        var results = new List<Result>();
        foreach (var (name, create) in Candidates(epochs))
        {
            string? file = resultsFolder == null ? null : Path.Combine(resultsFolder, string.Concat(name.Where(char.IsLetterOrDigit)) + ".json");
            if (file != null && File.Exists(file))
            {
                var saved = System.Text.Json.JsonSerializer.Deserialize<Result>(File.ReadAllText(file))!;
                if (saved.Correct.Length != truth.Length)
                    throw new InvalidDataException($"{file} holds {saved.Correct.Length} test messages, this split has {truth.Length}; delete it or use another --results folder.");
                results.Add(saved);
                Console.WriteLine($"{name}: read from {file}");
                continue;
            }

            if (models != null && !models.Contains(name))
                continue;
            // CPU seconds as well as wall seconds: the encoder trains on one libtorch thread, so its CPU time measures the work
            // even when other jobs share the machine.
            var cpu = Environment.CpuUsage.TotalTime;
            var watch = Stopwatch.StartNew();
            var model = create(ml).Fit(split.TrainSet);
            double seconds = watch.Elapsed.TotalSeconds;
            double cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
            if (name == "DynMoE")
                Console.WriteLine($"peak working set after DynMoE training: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0):F0} MB");
            var scored = model.Transform(split.TestSet);
            var metrics = ml.BinaryClassification.EvaluateNonCalibrated(scored);
            var predicted = scored.GetColumn<bool>("PredictedLabel").ToArray();
            // The dense encoder routes nothing (its routing statistics are empty), so it has no experts-per-token figure.
            double? experts = name == "Dense" ? null : (model as DynMoEEncoderTransformer)?.Model.Routing.MeanActivatedExpertsPerToken;
            var result = new Result(name, metrics.Accuracy, metrics.AreaUnderRocCurve, experts, seconds, cpuSeconds, predicted.Select((p, i) => p == truth[i]).ToArray());
            results.Add(result);
            if (file != null)
                File.WriteAllText(file, System.Text.Json.JsonSerializer.Serialize(result));
            Console.WriteLine($"{name}: accuracy {result.Accuracy:F4}, AUC {result.Auc:F4}, experts/token {(experts is double e ? e.ToString("F2", CultureInfo.InvariantCulture) : "-")}, {seconds:F0} s wall, {cpuSeconds:F0} CPU-s");
        }

        if (!results.Any(r => r.Name == "FeaturizeText + SDCA"))
            return;
        var sdca = results.Single(r => r.Name == "FeaturizeText + SDCA");
        Console.WriteLine();
        Console.WriteLine("| Model | Accuracy | AUC | Activated experts / token | Train s (wall) | Train CPU-s | McNemar p vs SDCA (b/c) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            int b = r.Correct.Zip(sdca.Correct).Count(p => p.First && !p.Second);
            int c = r.Correct.Zip(sdca.Correct).Count(p => !p.First && p.Second);
            string test = ReferenceEquals(r, sdca) ? "-" : $"{ExactMcNemar(b, c):F3} ({b}/{c})";
            Console.WriteLine($"| {r.Name} | {r.Accuracy:F4} | {r.Auc:F4} | {(r.ExpertsPerToken is double e ? e.ToString("F2", CultureInfo.InvariantCulture) : "-")} | {r.TrainSeconds:F0} | {r.TrainCpuSeconds:F0} | {test} |");
        }

        var grid = results.Where(r => r.Name.StartsWith("TopK", StringComparison.Ordinal)).ToArray();
        if (grid.Length > 0)
            Console.WriteLine($"top-k grid mean accuracy {grid.Average(r => r.Accuracy):F4}, AUC {grid.Average(r => r.Auc):F4}; best on this test split (optimistic): {grid.MaxBy(r => r.Accuracy)!.Name}.");
    }

    /// <summary>Two-sided exact McNemar test: b and c are the discordant counts; p = P(X ≤ min(b, c)) × 2 for X ~ Binomial(b + c, ½), capped at 1.</summary>
    public static double ExactMcNemar(int b, int c)
    {
        int n = b + c;
        if (n == 0)
            return 1;
        double tail = 0;
        for (int i = 0; i <= Math.Min(b, c); i++)
            tail += Math.Exp(LogChoose(n, i) - n * Math.Log(2));
        return Math.Min(1, 2 * tail);
    }

    private static double LogChoose(int n, int k)
    {
        double s = 0;
        for (int i = 1; i <= k; i++)
            s += Math.Log(n - k + i) - Math.Log(i);
        return s;
    }

    public static void Speed(string path, bool trainingOnly)
    {
        var ml = new MLContext(seed: 1);
        // Messages with at least 256 tokens after truncation, so every scored sequence is 256 tokens long.
        var all = ml.Data.CreateEnumerable<Message>(Load(ml, path), reuseRowObject: false).ToArray();
        var tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForModel("gpt-4");
        var longOnes = all.Where(m => tokenizer.CountTokens(m.Text) >= 300).Take(1024).ToArray();
        var train = ml.Data.LoadFromEnumerable(all.Take(1024));
        var scoring = ml.Data.LoadFromEnumerable(longOnes);
        Console.WriteLine($"training on 1,024 messages; scoring {longOnes.Length} messages of ≥ 300 tokens (256 after truncation).");

        // Throughput: 2 epochs per fit, rounds interleaved so machine load falls on every candidate alike. A first DynMoE fit
        // fixes the dense width "of equal activated width" (expert width × activated experts per token); with MoE in every
        // other block that dense network also widens the block DynMoE keeps dense, so it slightly overstates dense's cost,
        // and the dense network of the same FFN width is listed too.
        long tokens = 0;
        foreach (var m in all.Take(1024))
            tokens += Math.Min(256, tokenizer.CountTokens(m.Text));
        var probe = ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options { NumberOfEpochs = 2, Seed = 1 }).Fit(train);
        double probeActivated = probe.Model.Routing.MeanActivatedExpertsPerToken;
        int denseWidth = (int)Math.Round(128 * probeActivated);
        var shapes = new (string Name, DynMoEBinaryTextClassificationTrainer.Options Options)[]
        {
            ("DynMoE (top-any, 4→8 experts)", new() { NumberOfEpochs = 2, Seed = 1 }),
            ("Top-2 of 8", new() { Gating = GatingKind.TopK, TopK = 2, InitialExperts = 8, MaximumExperts = 8, NumberOfEpochs = 2, Seed = 1 }),
            ($"Dense, FFN width {denseWidth} (equal activated width)", new() { Gating = GatingKind.Dense, ExpertHiddenDimension = denseWidth, NumberOfEpochs = 2, Seed = 1 }),
            ("Dense, FFN width 128", new() { Gating = GatingKind.Dense, NumberOfEpochs = 2, Seed = 1 }),
        };
        // Wall time and the process's CPU time per fit, best of 3: training runs on one libtorch thread, so CPU seconds
        // measure the work even when other jobs share the machine (wall time then also counts the waiting).
        var best = new double[shapes.Length];
        var bestCpu = new double[shapes.Length];
        var activated = new double[shapes.Length];
        Array.Fill(best, double.MaxValue);
        Array.Fill(bestCpu, double.MaxValue);
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < shapes.Length; i++)
            {
                var cpu = Environment.CpuUsage.TotalTime;
                var watch = Stopwatch.StartNew();
                var model = ml.BinaryClassification.Trainers.DynMoETextClassification(shapes[i].Options).Fit(train);
                best[i] = Math.Min(best[i], watch.Elapsed.TotalSeconds);
                bestCpu[i] = Math.Min(bestCpu[i], (Environment.CpuUsage.TotalTime - cpu).TotalSeconds);
                activated[i] = model.Model.Routing.MeanActivatedExpertsPerToken;
            }
        }

        Console.WriteLine($"{tokens} real tokens per epoch; DynMoE activated {probeActivated:F2} experts per token after 2 epochs.");
        Console.WriteLine("| Encoder (2 blocks, width 64; MoE FFN in block 2) | Activated experts / token | Best fit s, wall (2 epochs) | Best fit s, CPU | Training tokens per CPU-second | CPU time / dense of equal activated width |");
        Console.WriteLine("|---|---|---|---|---|---|");
        for (int i = 0; i < shapes.Length; i++)
            Console.WriteLine($"| {shapes[i].Name} | {(i >= 2 ? "-" : activated[i].ToString("F2", CultureInfo.InvariantCulture))} | {best[i]:F1} | {bestCpu[i]:F1} | {2 * tokens / bestCpu[i]:F0} | {bestCpu[i] / bestCpu[2]:F2} |");
        if (trainingOnly)
            return;

        // Scoring: DynMoE (managed scorer) vs FeaturizeText + SDCA, single-document PredictionEngine latency and batch docs/s.
        var pipelines = new (string Name, ITransformer Model)[]
        {
            ("DynMoE", ml.BinaryClassification.Trainers.DynMoETextClassification(new DynMoEBinaryTextClassificationTrainer.Options { NumberOfEpochs = 2, Seed = 1 }).Fit(train)),
            ("FeaturizeText + SDCA", ml.Transforms.Text.FeaturizeText("Features", "Text").Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression()).Fit(train)),
        };
        Console.WriteLine("| Scorer | Single document (µs, median of 750) | Batch documents/s |");
        Console.WriteLine("|---|---|---|");
        var latencies = pipelines.Select(_ => new List<double>()).ToArray();
        var batch = new double[pipelines.Length];
        Array.Fill(batch, double.MaxValue);
        var engines = pipelines.Select(p => ml.Model.CreatePredictionEngine<Message, Prediction>(p.Model)).ToArray();
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < pipelines.Length; i++)
            {
                var watch = new Stopwatch();
                for (int j = 0; j < 250; j++)
                {
                    var message = longOnes[(round * 250 + j) % longOnes.Length];
                    watch.Restart();
                    engines[i].Predict(message);
                    if (round > 0)
                        latencies[i].Add(watch.Elapsed.TotalMilliseconds * 1000);
                }

                watch.Restart();
                float sum = 0;
                foreach (float s in pipelines[i].Model.Transform(scoring).GetColumn<float>("Score"))
                    sum += s;
                batch[i] = Math.Min(batch[i], watch.Elapsed.TotalSeconds);
                GC.KeepAlive(sum);
            }
        }

        for (int i = 0; i < pipelines.Length; i++)
        {
            var sorted = latencies[i].OrderBy(v => v).ToArray();
            Console.WriteLine($"| {pipelines[i].Name} | {sorted[sorted.Length / 2]:F0} | {longOnes.Length / batch[i]:F0} |");
        }
    }
}
