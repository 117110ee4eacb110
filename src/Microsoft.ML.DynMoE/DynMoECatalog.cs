namespace Microsoft.ML;

/// <summary>DynMoE trainers on ML.NET's trainer catalogs: <c>mlContext.MulticlassClassification.Trainers.DynMoE(...)</c> and friends.</summary>
public static class DynMoECatalog
{
    /// <summary>Creates a DynMoE multiclass trainer with the most used settings; see <see cref="DynMoEMulticlassTrainer.Options"/> for all.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key-typed label column.</param>
    /// <param name="featureColumnName">Known-size Single vector of features.</param>
    /// <param name="exampleWeightColumnName">Optional Single weight column.</param>
    /// <param name="gating">Top-any (DynMoE), top-k or dense; null keeps the options default (top-any).</param>
    /// <param name="initialExperts">Experts at the start of training; null keeps the options default.</param>
    /// <param name="numberOfEpochs">Passes over the data; null keeps the options default.</param>
    /// <param name="topK">Experts per token for top-k gating; null keeps the options default (2).</param>
    /// <param name="learningRate">Peak learning rate; null keeps the options default.</param>
    public static DynMoEMulticlassTrainer DynMoE(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features, string? exampleWeightColumnName = null,
        GatingKind? gating = null, int? initialExperts = null, int? numberOfEpochs = null, int? topK = null, float? learningRate = null)
        => catalog.DynMoE(Configure(new DynMoEMulticlassTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName, gating, initialExperts, numberOfEpochs, topK, learningRate));

    /// <summary>Creates a DynMoE multiclass trainer from options.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">Trainer options.</param>
    public static DynMoEMulticlassTrainer DynMoE(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, DynMoEMulticlassTrainer.Options options)
        => new(CatalogUtils.GetEnvironment(catalog), options);

    /// <summary>Creates a DynMoE binary trainer with the most used settings; see <see cref="DynMoEBinaryTrainer.Options"/> for all.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="labelColumnName">Boolean label column.</param>
    /// <param name="featureColumnName">Known-size Single vector of features.</param>
    /// <param name="exampleWeightColumnName">Optional Single weight column.</param>
    /// <param name="gating">Top-any (DynMoE), top-k or dense; null keeps the options default (top-any).</param>
    /// <param name="initialExperts">Experts at the start of training; null keeps the options default.</param>
    /// <param name="numberOfEpochs">Passes over the data; null keeps the options default.</param>
    /// <param name="topK">Experts per token for top-k gating; null keeps the options default (2).</param>
    /// <param name="learningRate">Peak learning rate; null keeps the options default.</param>
    public static DynMoEBinaryTrainer DynMoE(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features, string? exampleWeightColumnName = null,
        GatingKind? gating = null, int? initialExperts = null, int? numberOfEpochs = null, int? topK = null, float? learningRate = null)
        => catalog.DynMoE(Configure(new DynMoEBinaryTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName, gating, initialExperts, numberOfEpochs, topK, learningRate));

    /// <summary>Creates a DynMoE binary trainer from options.</summary>
    /// <param name="catalog">The binary trainers catalog.</param>
    /// <param name="options">Trainer options.</param>
    public static DynMoEBinaryTrainer DynMoE(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, DynMoEBinaryTrainer.Options options)
        => new(CatalogUtils.GetEnvironment(catalog), options);

    /// <summary>Creates a DynMoE regression trainer with the most used settings; see <see cref="DynMoERegressionTrainer.Options"/> for all.</summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="labelColumnName">Single label column.</param>
    /// <param name="featureColumnName">Known-size Single vector of features.</param>
    /// <param name="exampleWeightColumnName">Optional Single weight column.</param>
    /// <param name="gating">Top-any (DynMoE), top-k or dense; null keeps the options default (top-any).</param>
    /// <param name="initialExperts">Experts at the start of training; null keeps the options default.</param>
    /// <param name="numberOfEpochs">Passes over the data; null keeps the options default.</param>
    /// <param name="topK">Experts per token for top-k gating; null keeps the options default (2).</param>
    /// <param name="learningRate">Peak learning rate; null keeps the options default.</param>
    public static DynMoERegressionTrainer DynMoE(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = DefaultColumnNames.Label, string featureColumnName = DefaultColumnNames.Features, string? exampleWeightColumnName = null,
        GatingKind? gating = null, int? initialExperts = null, int? numberOfEpochs = null, int? topK = null, float? learningRate = null)
        => catalog.DynMoE(Configure(new DynMoERegressionTrainer.Options(), labelColumnName, featureColumnName, exampleWeightColumnName, gating, initialExperts, numberOfEpochs, topK, learningRate));

    /// <summary>Creates a DynMoE regression trainer from options.</summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="options">Trainer options.</param>
    public static DynMoERegressionTrainer DynMoE(this RegressionCatalog.RegressionTrainers catalog, DynMoERegressionTrainer.Options options)
        => new(CatalogUtils.GetEnvironment(catalog), options);

    // Null arguments fall back to the Options defaults, so the defaults live in one place (ML.NET's catalog convention).
    private static TOptions Configure<TOptions>(TOptions options, string label, string features, string? weight, GatingKind? gating, int? experts, int? epochs, int? topK, float? learningRate)
        where TOptions : DynMoETrainerOptionsBase
    {
        options.LabelColumnName = label;
        options.FeatureColumnName = features;
        options.ExampleWeightColumnName = weight;
        ApplyCommon(options, gating, experts, epochs, topK, learningRate);
        return options;
    }

    /// <summary>The short overloads' shared settings, for every DynMoE trainer; null keeps the options default.</summary>
    internal static void ApplyCommon(DynMoETrainerOptionsBase options, GatingKind? gating, int? experts, int? epochs, int? topK, float? learningRate)
    {
        options.Gating = gating ?? options.Gating;
        options.InitialExperts = experts ?? options.InitialExperts;
        options.NumberOfEpochs = epochs ?? options.NumberOfEpochs;
        options.TopK = topK ?? options.TopK;
        options.LearningRate = learningRate ?? options.LearningRate;
    }
}
