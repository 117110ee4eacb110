using System;
using System.IO;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments;

namespace Microsoft.ML.DynMoE.Tests.Experiments;

internal static class ExperimentTestData
{
    internal static string DataPath(string name) => Path.Combine(AppContext.BaseDirectory, "data", name, "data.csv");

    /// <summary>Iris from the shipped CSV: string Label and four numeric columns.</summary>
    internal static IDataView LoadIris(MLContext ml)
        => ml.Data.LoadFromTextFile(DataPath("iris"), new[]
        {
            new TextLoader.Column("Label", DataKind.String, 0),
            new TextLoader.Column("Measurements", DataKind.Single, 1, 4),
        }, separatorChar: ',', hasHeader: true);

    /// <summary>Tiny, fast experiment settings: small nets and few epochs.</summary>
    internal static DynMoEExperimentSettings FastSettings() => new()
    {
        Seed = 7,
        NumberOfEpochs = 2,
        ModelDimension = 16,
        ExpertHiddenDimension = 16,
        BatchSize = 32,
        RefitBestModel = false,
    };

    internal static DynMoEExperiment FastIrisExperiment(MLContext ml, DynMoEExperimentSettings? settings = null)
        => ml.DynMoE().CreateExperiment(settings ?? FastSettings())
            .SetDataset(LoadIris(ml), fold: 2)
            .SetMulticlassClassificationMetric(MulticlassClassificationMetric.MacroAccuracy)
            .SetFeaturizer(m => m.Transforms.Concatenate("Features", "Measurements"));
}
