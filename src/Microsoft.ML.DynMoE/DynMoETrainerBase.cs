using System;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// What the three DynMoE trainers share: option and schema validation with errors that name the column and the
/// fix, reading the data, the TorchSharp training loop, logging and progress. Subclasses supply the label encoding,
/// the objective and the model parameters.
/// </summary>
/// <typeparam name="TTransformer">The prediction transformer the trainer produces.</typeparam>
/// <typeparam name="TModel">The model parameters.</typeparam>
/// <typeparam name="TOptions">The options type.</typeparam>
public abstract class DynMoETrainerBase<TTransformer, TModel, TOptions> : TrainerEstimatorBase<TTransformer, TModel>, IEstimator<TTransformer>
    where TTransformer : ISingleFeaturePredictionTransformer<TModel>
    where TModel : class
    where TOptions : DynMoETrainerOptionsBase
{
    private static readonly TrainerInfo TrainerCapabilities = new(normalization: false, caching: false, supportValid: true);

    // A private copy, validated once: changing the caller's options object after construction cannot change what Fit does
    // (ML.NET's trainers keep their options private for the same reason).
    private readonly TOptions _options;

    private protected DynMoETrainerBase(IHostEnvironment env, TOptions options, string name, Func<string, SchemaShape.Column> makeLabel)
        : base(Contracts.CheckRef(env, nameof(env)).Register(name),
              TrainerUtils.MakeR4VecFeature(CheckOptions(options).FeatureColumnName),
              makeLabel(options.LabelColumnName),
              TrainerUtils.MakeR4ScalarWeightColumn(options.ExampleWeightColumnName))
    {
        _options = (TOptions)options.CloneOptions();
    }

    /// <inheritdoc />
    public override TrainerInfo Info => TrainerCapabilities;

    private protected abstract TrainingObjective Objective { get; }

    /// <summary>Trains on <paramref name="input"/>.</summary>
    public new TTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>Trains on <paramref name="trainData"/>, reporting validation loss on <paramref name="validationData"/> every epoch (and early-stopping on it when <c>EarlyStoppingPatience</c> is set).</summary>
    public TTransformer Fit(IDataView trainData, IDataView? validationData)
    {
        Host.CheckValue(trainData, nameof(trainData));
        ValidateSchema(SchemaShape.Create(trainData.Schema), "training");
        if (validationData is not null)
        {
            ValidateSchema(SchemaShape.Create(validationData.Schema), "validation");
            foreach (string column in new[] { FeatureColumn.Name, LabelColumn.Name })
            {
                var trainType = trainData.Schema[column].Type;
                var validationType = validationData.Schema[column].Type;
                if (!trainType.Equals(validationType))
                    throw new ArgumentOutOfRangeException(nameof(validationData),
                        $"Column '{column}' is {validationType} in the validation data but {trainType} in the training data. " +
                        "Apply the same fitted featurization (and the same MapValueToKey) to both.");
            }
        }
        return TrainTransformer(trainData, validationData);
    }

    /// <summary>Checks the input columns (with errors that say how to fix them) and returns the output schema.</summary>
    public new SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Host.CheckValue(inputSchema, nameof(inputSchema));
        ValidateSchema(inputSchema, "input");
        return base.GetOutputSchema(inputSchema);
    }

    private static TOptions CheckOptions(TOptions options)
    {
        if (options is null)
            throw new ArgumentNullException(nameof(options));
        options.Validate();
        return options;
    }

    private void ValidateSchema(SchemaShape schema, string dataName)
    {
        if (!schema.TryFindColumn(FeatureColumn.Name, out var feature))
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.FeatureColumnName),
                $"Feature column '{FeatureColumn.Name}' was not found in the {dataName} data. Build it with mlContext.Transforms.Concatenate(\"{FeatureColumn.Name}\", <numeric columns>) or set FeatureColumnName to an existing column.");
        if (feature.Kind != SchemaShape.Column.VectorKind.Vector || feature.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.FeatureColumnName),
                $"Feature column '{FeatureColumn.Name}' must be a known-size vector of Single, but it is {Describe(feature)}. " +
                $"Concatenate numeric columns into it (mlContext.Transforms.Concatenate) and convert other number types with mlContext.Transforms.Conversion.ConvertType(outputKind: DataKind.Single).");

        if (!schema.TryFindColumn(LabelColumn.Name, out var label))
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                $"Label column '{LabelColumn.Name}' was not found in the {dataName} data. Set LabelColumnName to the column that holds the label.");
        CheckLabelCompatible(label);

        if (WeightColumn.IsValid)
        {
            if (!schema.TryFindColumn(WeightColumn.Name, out var weight))
                throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.ExampleWeightColumnName),
                    $"Example weight column '{WeightColumn.Name}' was not found in the {dataName} data. Set ExampleWeightColumnName to an existing column or to null.");
            if (weight.Kind != SchemaShape.Column.VectorKind.Scalar || weight.ItemType != NumberDataViewType.Single)
                throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.ExampleWeightColumnName),
                    $"Example weight column '{WeightColumn.Name}' must be a Single scalar, but it is {Describe(weight)}. Convert it with mlContext.Transforms.Conversion.ConvertType(\"{WeightColumn.Name}\", outputKind: DataKind.Single).");
        }
    }

    private protected static string Describe(SchemaShape.Column column)
    {
        string item = column.IsKey ? $"Key<{column.ItemType}>" : column.ItemType?.ToString() ?? "?";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Vector => $"a known-size vector of {item}",
            SchemaShape.Column.VectorKind.VariableVector => $"a variable-size vector of {item}",
            _ => $"a scalar of {item}",
        };
    }

    /// <summary>Creates the getter that encodes the label as the float the objective trains on (NaN = missing).</summary>
    private protected abstract ValueGetter<float> CreateLabelGetter(DataViewRow row, DataViewSchema.Column label);

    /// <summary>Network outputs for this task (classes, or 1).</summary>
    private protected abstract int GetOutputDimension(DataViewSchema.Column label);

    /// <summary>Checks the labels seen in training (e.g. at least two classes).</summary>
    private protected virtual void CheckLabelCounts(TrainingDataReader reader, DataViewSchema.Column label)
    {
    }

    private protected abstract TModel CreateModel(FeatureStandardizer standardizer, TrainedNetwork<CompiledMoEMlp> trained, TrainingDataReader reader);

    /// <inheritdoc />
    protected override TModel TrainModelCore(TrainContext context)
    {
        Host.CheckValue(context, nameof(context));
        var options = _options;
        using var ch = Host.Start("Training");
        var label = context.TrainingSet.Schema.Label!.Value;
        bool classification = Objective != TrainingObjective.SquaredError;

        if (options.EarlyStoppingPatience > 0 && context.ValidationSet is null)
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.EarlyStoppingPatience),
                $"EarlyStoppingPatience is {options.EarlyStoppingPatience} but no validation data was given. Call Fit(trainData, validationData) or set EarlyStoppingPatience to 0.");
        // Resolved before the first pass over the data, so a missing GPU fails at once, not after reading everything.
        var device = DeviceSelection.Resolve(options.Device, Host);
        if (NativeReproducibility.EnsureFor(device) is string reproducibility)
            ch.Warning(MessageSensitivity.None, "DynMoE: " + reproducibility);
        var reader = new TrainingDataReader(context.TrainingSet, CreateLabelGetter, options.SkipRowsWithNonFiniteFeatures);
        void CheckAlive() { options.CancellationToken.ThrowIfCancellationRequested(); Host.CheckAlive(); }
        var (standardizer, source) = reader.ReadTraining(options.MaximumCacheBytes, countLabels: classification, standardizeLabels: !classification, CheckAlive);
        LogSkippedRows(ch, reader, "training");
        if (reader.RowsUsed == 0)
            throw new InvalidOperationException(
                $"The training data has no usable rows (rows with a missing label: {reader.RowsWithMissingLabel}, with NaN/∞ features: {reader.RowsWithNonFiniteFeatures}, with an invalid weight: {reader.RowsWithInvalidWeight}). " +
                $"Check that '{label.Name}' and '{FeatureColumn.Name}' hold values and that no filter in front of the trainer removed every row.");
        CheckLabelCounts(reader, label);
        ch.Info(MessageSensitivity.None, $"DynMoE: {reader.RowsUsed} rows × {reader.FeatureCount} features, {(source is InMemoryBatchSource ? "cached in memory" : "streamed (over the cache budget)")}.");

        ITrainingBatchSource? validation = null;
        if (context.ValidationSet is RoleMappedData validationSet)
        {
            var validationReader = new TrainingDataReader(validationSet, CreateLabelGetter, options.SkipRowsWithNonFiniteFeatures)
            {
                LabelShift = reader.LabelShift,
                LabelDivisor = reader.LabelDivisor,
            };
            validation = validationReader.ReadValidation(standardizer, CheckAlive);
            LogSkippedRows(ch, validationReader, "validation");
        }

        var network = new MoEMlpNetworkOptions
        {
            InputDimension = reader.FeatureCount,
            OutputDimension = GetOutputDimension(label),
            NumberOfLayers = options.NumberOfLayers,
            Layer = options.ToLayerOptions(),
            AuxiliaryLossWeight = options.AuxiliaryLossWeight,
        };
        var settings = new NetworkTrainingSettings
        {
            Objective = Objective,
            Epochs = options.NumberOfEpochs,
            BatchSize = options.BatchSize,
            LearningRate = options.LearningRate,
            WeightDecay = options.WeightDecay,
            Adaptation = options.Gating == GatingKind.TopAny ? options.Adaptation : AdaptationSchedule.Off,
            Device = device,
            Seed = options.Seed ?? ((IHostEnvironmentInternal)Host).Seed ?? Host.Rand.Next(),
            Threads = options.NumberOfThreads,
            GateLearningRateMultiplier = options.GateLearningRateMultiplier,
            ResetNewExpertOptimizerState = options.ResetNewExpertOptimizerState,
            NewExpertWarmupSteps = options.NewExpertWarmupSteps,
            EarlyStoppingPatience = options.EarlyStoppingPatience,
            RegressionLabelScale = reader.LabelDivisor,
            CancellationToken = options.CancellationToken,
            CheckAlive = CheckAlive,
            OnEpoch = progress =>
            {
                ch.Info(MessageSensitivity.None, "DynMoE " + progress);
                if (progress.ValidationLoss is double loss && !double.IsFinite(loss))
                    ch.Warning(MessageSensitivity.None, FormattableString.Invariant($"DynMoE: the validation loss of epoch {progress.Epoch} is {loss}; training diverged: lower LearningRate.")
                        + (options.EarlyStoppingPatience > 0 ? " Early stopping counts the epoch as one without improvement and keeps the best finite epoch." : ""));
                options.Progress?.Report(progress);
            },
        };
        var trained = MoENetworkTrainer.Train(settings, generator => new MoEMlpNetwork(network, generator), n => CompiledMoEMlp.FromNetwork((MoEMlpNetwork)n), source, validation);
        ch.Info(MessageSensitivity.None, $"DynMoE routing after training: {string.Join("; ", trained.Routing.Select(r => r.ToString()))}");
        return CreateModel(standardizer, trained, reader);
    }

    private static void LogSkippedRows(IChannel ch, TrainingDataReader reader, string dataName)
    {
        if (reader.RowsWithMissingLabel > 0)
            ch.Info(MessageSensitivity.None, $"DynMoE skipped {reader.RowsWithMissingLabel} {dataName} rows with a missing or infinite label.");
        if (reader.RowsWithNonFiniteFeatures > 0)
            ch.Info(MessageSensitivity.None, $"DynMoE skipped {reader.RowsWithNonFiniteFeatures} {dataName} rows with NaN or infinite features (SkipRowsWithNonFiniteFeatures).");
        if (reader.RowsWithInvalidWeight > 0)
            ch.Info(MessageSensitivity.None, $"DynMoE skipped {reader.RowsWithInvalidWeight} {dataName} rows with a missing, negative or infinite weight.");
    }

    private protected static DynMoERoutingSummary ToSummary(TrainedNetwork<CompiledMoEMlp> trained, long rows) => new(trained.Routing, rows);
}
