using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// What the three DynMoE trainers share: option and schema validation with errors that name the column and the
/// fix, the label encoding and objective of each task, reading the data, the TorchSharp training loop, logging and
/// progress. Subclasses supply the model parameters, their output columns and the prediction transformer.
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

    private protected DynMoETrainerBase(IHostEnvironment env, TOptions options, string name, Func<string, SchemaShape.Column> makeLabel, ClassificationTask? classification)
        : base(Contracts.CheckRef(env, nameof(env)).Register(name),
              TrainerUtils.MakeR4VecFeature(CheckOptions(options).FeatureColumnName),
              makeLabel(options.LabelColumnName),
              TrainerUtils.MakeR4ScalarWeightColumn(options.ExampleWeightColumnName))
    {
        _options = (TOptions)options.CloneOptions();
        Classification = classification;
    }

    /// <inheritdoc />
    public override TrainerInfo Info => TrainerCapabilities;

    /// <summary>The classification task (label check, target, outputs), or null for regression.</summary>
    private protected ClassificationTask? Classification { get; }

    /// <inheritdoc />
    protected override PredictionKind PredictionKind => Classification?.PredictionKind ?? PredictionKind.Regression;

    private TrainingObjective Objective => Classification?.Objective ?? TrainingObjective.SquaredError;

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

    /// <inheritdoc />
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema)
        => Classification?.OutputSchema(inputSchema, LabelColumn.Name, trainerOutput: true).ToArray() ?? ClassificationTask.RegressionOutputSchema();

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
                $"Feature column '{FeatureColumn.Name}' must be a known-size vector of Single, but it is {ColumnChecks.Describe(feature)}. " +
                $"Concatenate numeric columns into it (mlContext.Transforms.Concatenate) and convert other number types with mlContext.Transforms.Conversion.ConvertType(outputKind: DataKind.Single).");

        if (!schema.TryFindColumn(LabelColumn.Name, out var label))
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                $"Label column '{LabelColumn.Name}' was not found in the {dataName} data. Set LabelColumnName to the column that holds the label.");
        CheckLabelCompatible(label);

        ColumnChecks.CheckWeight(schema, WeightColumn.IsValid ? WeightColumn.Name : null, dataName);
    }

    /// <inheritdoc />
    protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
    {
        if (Classification is not null)
        {
            Classification.CheckLabel(labelCol);
            return;
        }

        if (labelCol.IsKey || labelCol.Kind != SchemaShape.Column.VectorKind.Scalar || labelCol.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                $"Label column '{labelCol.Name}' must be a Single scalar for regression, but it is {ColumnChecks.Describe(labelCol)}. " +
                $"Load it as float or convert it with mlContext.Transforms.Conversion.ConvertType(\"{labelCol.Name}\", outputKind: DataKind.Single).");
    }

    /// <summary>Creates the getter that encodes the label as the float the objective trains on (NaN = missing).</summary>
    private ValueGetter<float> CreateLabelGetter(DataViewRow row, DataViewSchema.Column label)
    {
        if (Classification is not null)
            return Classification.CreateLabelGetter(row, label);
        return row.GetGetter<float>(label);
    }

    private protected abstract TModel CreateModel(FeatureStandardizer standardizer, TrainedNetwork<CompiledMoEMlp> trained, TrainingDataReader reader);

    /// <inheritdoc />
    protected override TModel TrainModelCore(TrainContext context)
    {
        Host.CheckValue(context, nameof(context));
        var options = _options;
        using var session = new FitSession(Host, options, context.ValidationSet is not null);
        var label = context.TrainingSet.Schema.Label!.Value;
        bool classification = Classification is not null;

        var reader = new TrainingDataReader(context.TrainingSet, CreateLabelGetter, options.SkipRowsWithNonFiniteFeatures);
        bool validationGiven = context.ValidationSet is not null;
        reader.HoldOut = session.PlanHoldOut(validationGiven, validationGiven || options.ValidationFraction == 0 ? 0 : reader.CountRows(session.CheckAlive), stratify: classification);
        var (standardizer, source, heldOut) = reader.ReadTraining(options.MaximumCacheBytes, countLabels: classification, standardizeLabels: !classification, session.CheckAlive);
        session.LogSkippedRows("training", reader.RowsWithMissingLabel, reader.RowsWithNonFiniteFeatures, reader.RowsWithInvalidWeight);
        if (reader.RowsUsed == 0)
            throw new InvalidOperationException(
                $"The training data has no usable rows (rows with a missing label: {reader.RowsWithMissingLabel}, with NaN/∞ features: {reader.RowsWithNonFiniteFeatures}, with an invalid weight: {reader.RowsWithInvalidWeight}). " +
                $"Check that '{label.Name}' and '{FeatureColumn.Name}' hold values and that no filter in front of the trainer removed every row.");
        if (Classification is not null && reader.LabelCounts.Count < 2)
            throw new InvalidOperationException(Classification.SingleClassMessage(label.Name, reader.LabelCounts.Keys.Single()));
        session.Channel.Info(MessageSensitivity.None, $"DynMoE: {reader.RowsUsed} rows × {reader.FeatureCount} features, {(source is InMemoryBatchSource ? "cached in memory" : "streamed (over the cache budget)")}.");

        ITrainingBatchSource? validation = heldOut;
        if (heldOut is not null)
            session.Channel.Info(MessageSensitivity.None, $"DynMoE: {reader.RowsHeldOut} rows held out for validation.");
        else if (reader.RowsHeldOut > 0)
            session.Channel.Warning(MessageSensitivity.None, $"DynMoE: the {reader.RowsHeldOut} rows held out for validation all have weight 0, so training runs without validation.");
        if (context.ValidationSet is RoleMappedData validationSet)
        {
            var validationReader = new TrainingDataReader(validationSet, CreateLabelGetter, options.SkipRowsWithNonFiniteFeatures)
            {
                LabelShift = reader.LabelShift,
                LabelDivisor = reader.LabelDivisor,
            };
            validation = validationReader.ReadValidation(standardizer, session.CheckAlive);
            session.LogSkippedRows("validation", validationReader.RowsWithMissingLabel, validationReader.RowsWithNonFiniteFeatures, validationReader.RowsWithInvalidWeight);
        }

        var network = new MoEMlpNetworkOptions
        {
            InputDimension = reader.FeatureCount,
            OutputDimension = Classification?.OutputCount(label) ?? 1,
            NumberOfLayers = options.NumberOfLayers,
            Layer = options.ToLayerOptions(),
            Dropout = options.Dropout,
            AuxiliaryLossWeight = options.AuxiliaryLossWeight,
        };
        var trained = session.Train(Objective, source, validation, generator => new MoEMlpNetwork(network, generator),
            n => CompiledMoEMlp.FromNetwork((MoEMlpNetwork)n), regressionLabelScale: reader.LabelDivisor);
        return CreateModel(standardizer, trained, reader);
    }

    private protected static DynMoERoutingSummary ToSummary(TrainedNetwork<CompiledMoEMlp> trained, long rows) => new(trained.Routing, rows);
}
