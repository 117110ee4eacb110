using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.Trainers.LightGbm;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// Image figures of docs/images.md and docs/benchmarks.md on a pixel CSV (Label, then H×W grey pixels):
/// <c>--images-quality CSV [H W]</c> trains DynMoE-ViT, top-k ViTs, a dense ViT and LightGbm on one 80/20 split;
/// <c>--images-speed CSV [H W]</c> measures training images/s (DynMoE, top-2 and dense ViT of equal activated width,
/// interleaved rounds, so the shared machine's load hits all alike), scoring latency and peak memory (child processes).
/// </summary>
internal static class ImageHarness
{
    private sealed class Split
    {
        public required MLContext Ml { get; init; }
        public required IDataView Train { get; init; }
        public required IDataView Test { get; init; }
        public required int Height { get; init; }
        public required int Width { get; init; }
    }

    private static Split Load(string path, string[] args)
    {
        int h = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 28, w = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : h;
        var ml = new MLContext(seed: 1);
        var loader = ml.Data.CreateTextLoader(new[]
        {
            new TextLoader.Column("Label", DataKind.String, 0),
            new TextLoader.Column("Features", DataKind.Single, 1, h * w),
        }, separatorChar: ',', hasHeader: true);
        var raw = loader.Load(path);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
        data = ml.Data.Cache(data);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        return new Split { Ml = ml, Train = split.TrainSet, Test = split.TestSet, Height = h, Width = w };
    }

    private static DynMoEImageClassificationTrainer.Options Vit(Split s, GatingKind gating, int topK = 2, int experts = 4, int maximum = 8, int hidden = 128, int? epochs = null)
    {
        var o = new DynMoEImageClassificationTrainer.Options { ImageHeight = s.Height, ImageWidth = s.Width, Gating = gating, TopK = topK, InitialExperts = experts, MaximumExperts = maximum, ExpertHiddenDimension = hidden, Seed = 1 };
        if (epochs is int e) o.NumberOfEpochs = e;
        return o;
    }

    public static void Quality(string path, string[] args)
    {
        var s = Load(path, args);
        var ml = s.Ml;
        int? epochs = Environment.GetEnvironmentVariable("IMAGE_EPOCHS") is string e ? int.Parse(e, CultureInfo.InvariantCulture) : null;
        var only = Environment.GetEnvironmentVariable("IMAGE_MODELS")?.Split(',');
        var models = new List<(string Name, IEstimator<ITransformer> Trainer)>
        {
            ("DynMoE-ViT (top-any, 4→≤8 experts)", ml.MulticlassClassification.Trainers.DynMoEImageClassification(Vit(s, GatingKind.TopAny, epochs: epochs))),
            ("top-2 ViT (8 experts)", ml.MulticlassClassification.Trainers.DynMoEImageClassification(Vit(s, GatingKind.TopK, 2, 8, 8, epochs: epochs))),
            ("top-1 ViT (4 experts)", ml.MulticlassClassification.Trainers.DynMoEImageClassification(Vit(s, GatingKind.TopK, 1, 4, 4, epochs: epochs))),
            ("dense ViT", ml.MulticlassClassification.Trainers.DynMoEImageClassification(Vit(s, GatingKind.Dense, epochs: epochs))),
            ("LightGbm (pixels)", ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options { Seed = 1, NumberOfThreads = 1 })),
        };
        Console.WriteLine($"{path}: 80/20 split, {s.Height}×{s.Width}, epochs {(epochs?.ToString(CultureInfo.InvariantCulture) ?? "default")}");
        Console.WriteLine("| model | held-out accuracy | activated experts per patch | training s |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, trainer) in models)
        {
            if (only is not null && !only.Any(o => name.StartsWith(o, StringComparison.OrdinalIgnoreCase)))
                continue;
            var watch = Stopwatch.StartNew();
            var model = trainer.Fit(s.Train);
            double seconds = watch.Elapsed.TotalSeconds;
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(s.Test));
            string activated = "–";
            if (model is DynMoEEncoderTransformer vit && vit.Model.NumberOfMoELayers > 0)
                activated = vit.Model.ComputeRouting(s.Test).Overall.MeanActivatedExpertsPerToken.ToString("F2", CultureInfo.InvariantCulture);
            Console.WriteLine(FormattableString.Invariant($"| {name} | {metrics.MicroAccuracy:F4} | {activated} | {seconds:F0} |"));
        }
    }

    public static void Speed(string path, string[] args)
    {
        var s = Load(path, args);
        var ml = s.Ml;
        var train = ml.Data.Cache(ml.Data.TakeRows(s.Train, 2000));
        // One epoch per round; the first DynMoE round fixes the dense width "of equal activated width".
        var dyn = (DynMoEEncoderTransformer)ml.MulticlassClassification.Trainers.DynMoEImageClassification(Vit(s, GatingKind.TopAny, epochs: 1)).Fit(train);
        double activated = dyn.Model.Routing.MeanActivatedExpertsPerToken;
        int denseWidth = (int)Math.Round(128 * activated);
        Console.WriteLine(FormattableString.Invariant($"DynMoE activated experts per patch after one epoch {activated:F2}: dense ViT of equal activated width has FFN width {denseWidth}."));
        var cases = new (string Name, Func<DynMoEImageClassificationTrainer.Options> Options)[]
        {
            ("DynMoE-ViT", () => Vit(s, GatingKind.TopAny, epochs: 1)),
            ("top-2 ViT (E=8)", () => Vit(s, GatingKind.TopK, 2, 8, 8, epochs: 1)),
            ("dense ViT, equal activated width", () => Vit(s, GatingKind.Dense, hidden: denseWidth, epochs: 1)),
            ("dense ViT, width 128", () => Vit(s, GatingKind.Dense, epochs: 1)),
        };
        var rates = cases.ToDictionary(c => c.Name, _ => new List<double>());
        var models = new Dictionary<string, ITransformer>();
        for (int round = 0; round < 3; round++)
        {
            foreach (var c in cases)
            {
                var watch = Stopwatch.StartNew();
                models[c.Name] = ml.MulticlassClassification.Trainers.DynMoEImageClassification(c.Options()).Fit(train);
                rates[c.Name].Add(2000 / watch.Elapsed.TotalSeconds);
            }
        }

        var test = ml.Data.TakeRows(s.Test, 500);
        var pixels = test.GetColumn<float[]>("Features").ToArray();
        var scoring = cases.ToDictionary(c => c.Name, _ => (Latency: new List<double>(), Batch: new List<double>()));
        for (int round = 0; round < 3; round++)
        {
            foreach (var c in cases)
            {
                var engine = ml.Model.CreatePredictionEngine<PixelRow, ScoreRow>(models[c.Name], inputSchemaDefinition: PixelRow.Schema(s.Height * s.Width));
                var watch = Stopwatch.StartNew();
                foreach (var p in pixels)
                    engine.Predict(new PixelRow { Features = p });
                scoring[c.Name].Latency.Add(watch.Elapsed.TotalMilliseconds / pixels.Length);
                watch.Restart();
                var scores = models[c.Name].Transform(test).GetColumn<float[]>("Score").Count();
                scoring[c.Name].Batch.Add(scores / watch.Elapsed.TotalSeconds);
            }
        }

        double Median(List<double> v) => v.OrderBy(x => x).ElementAt(v.Count / 2);
        double baseRate = Median(rates[cases[2].Name]);
        Console.WriteLine("| model | training images/s | step time ÷ dense of equal activated width | scoring ms/image (PredictionEngine) | scoring images/s (Transform) | peak training memory MB |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var c in cases)
        {
            double rate = Median(rates[c.Name]);
            long peak = PeakMemoryOfChild(path, args, c.Name);
            Console.WriteLine(FormattableString.Invariant($"| {c.Name} | {rate:F0} | {baseRate / rate:F2} | {Median(scoring[c.Name].Latency):F2} | {Median(scoring[c.Name].Batch):F0} | {peak / 1048576.0:F0} |"));
        }
    }

    private static long PeakMemoryOfChild(string path, string[] args, string name)
    {
        // Through the dotnet host, whether this harness was started as an apphost or with 'dotnet harness.dll'.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { typeof(ImageHarness).Assembly.Location, "--images-memory-child", path, args.Length > 2 ? args[2] : "28", args.Length > 3 ? args[3] : args.Length > 2 ? args[2] : "28", name })
            start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("peak ", StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line[5..].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Only the peak training memory column (one child process per case).</summary>
    public static void Memory(string path, string[] args)
    {
        Console.WriteLine("| model | peak training memory MB (one epoch, 2,000 images, own process) |");
        Console.WriteLine("|---|---|");
        foreach (var name in new[] { "DynMoE-ViT", "top-2 ViT (E=8)", "dense ViT, equal activated width", "dense ViT, width 128" })
            Console.WriteLine(FormattableString.Invariant($"| {name} | {PeakMemoryOfChild(path, args, name) / 1048576.0:F0} |"));
    }

    /// <summary>Trains one case for one epoch in this process and prints its peak working set.</summary>
    public static void MemoryChild(string[] args)
    {
        var s = Load(args[1], new[] { "", "", args[2], args[3] });
        var ml = s.Ml;
        var train = ml.Data.Cache(ml.Data.TakeRows(s.Train, 2000));
        string name = args[4];
        var options = name.StartsWith("DynMoE", StringComparison.Ordinal) ? Vit(s, GatingKind.TopAny, epochs: 1)
            : name.StartsWith("top-2", StringComparison.Ordinal) ? Vit(s, GatingKind.TopK, 2, 8, 8, epochs: 1)
            : name.Contains("128", StringComparison.Ordinal) ? Vit(s, GatingKind.Dense, epochs: 1)
            : Vit(s, GatingKind.Dense, hidden: (int)Math.Round(128 * ((DynMoEEncoderTransformer)ml.MulticlassClassification.Trainers.DynMoEImageClassification(Vit(s, GatingKind.TopAny, epochs: 1)).Fit(train)).Model.Routing.MeanActivatedExpertsPerToken), epochs: 1);
        ml.MulticlassClassification.Trainers.DynMoEImageClassification(options).Fit(train);
        Console.WriteLine("peak " + Process.GetCurrentProcess().PeakWorkingSet64.ToString(CultureInfo.InvariantCulture));
    }

    private sealed class PixelRow
    {
        public float[] Features { get; set; } = Array.Empty<float>();

        public static SchemaDefinition Schema(int size)
        {
            var schema = SchemaDefinition.Create(typeof(PixelRow));
            schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            return schema;
        }
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }
}
