using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.Trainers.LightGbm;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>The data sets and trainers the end-to-end benchmarks compare, built the same way everywhere.</summary>
public static class BenchmarkModels
{
    public static IDataView LoadDigits(MLContext ml)
    {
        string path = FindDigits();
        var data = ml.Data.CreateTextLoader(new[]
        {
            new TextLoader.Column("Label", DataKind.String, 0),
            new TextLoader.Column("Features", DataKind.Single, 1, 64),
        }, separatorChar: ',', hasHeader: true).Load(path);
        // Cache the keyed view so Fit measures training, not CSV parsing.
        return ml.Data.Cache(ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data));
    }

    public static IEstimator<ITransformer> Trainer(MLContext ml, string name, int epochs, int batchSize, long cacheBytes = 1L << 30)
    {
        DynMoEMulticlassTrainer.Options Neural(GatingKind gating, int experts) => new()
        {
            Gating = gating, TopK = 2, InitialExperts = experts, MaximumExperts = 16,
            NumberOfEpochs = epochs, BatchSize = batchSize, Device = DynMoEDevice.Cpu, MaximumCacheBytes = cacheBytes,
            ExpertHiddenDimension = gating == GatingKind.Dense ? 128 : 64,
            // Equal epochs for every network: the default hold-out still measures each epoch, but nothing stops early.
            EarlyStoppingPatience = 0,
        };
        return name switch
        {
            "DynMoE" => ml.MulticlassClassification.Trainers.DynMoE(Neural(GatingKind.TopAny, 4)),
            "TopK2of8" => ml.MulticlassClassification.Trainers.DynMoE(Neural(GatingKind.TopK, 8)),
            "Dense" => ml.MulticlassClassification.Trainers.DynMoE(Neural(GatingKind.Dense, 1)),
            "LightGbm" => ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options { NumberOfIterations = 100, Seed = 1, NumberOfThreads = 1 }),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown trainer."),
        };
    }

    private static string FindDigits()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", "data", "digits", "data.csv");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("samples/data/digits/data.csv not found above " + AppContext.BaseDirectory);
    }
}
