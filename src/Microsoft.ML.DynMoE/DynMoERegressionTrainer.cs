using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Trains a DynMoE network for regression on a Single label (standardised inside the model); features a
/// known-size vector of Single. Outputs <c>Score</c> in label units.
/// </summary>
public sealed class DynMoERegressionTrainer : DynMoETrainerBase<RegressionPredictionTransformer<DynMoERegressionModelParameters>, DynMoERegressionModelParameters, DynMoERegressionTrainer.Options>
{
    internal const string LoadName = "DynMoERegression";

    /// <summary>Options for <see cref="DynMoERegressionTrainer"/>; see <see cref="DynMoETrainerOptionsBase"/>.</summary>
    public sealed class Options : DynMoETrainerOptionsBase
    {
    }

    internal DynMoERegressionTrainer(IHostEnvironment env, Options options)
        : base(env, options, LoadName, TrainerUtils.MakeR4ScalarColumn)
    {
    }

    /// <inheritdoc />
    protected override PredictionKind PredictionKind => PredictionKind.Regression;

    private protected override TrainingObjective Objective => TrainingObjective.SquaredError;

    /// <inheritdoc />
    protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
    {
        if (labelCol.IsKey || labelCol.Kind != SchemaShape.Column.VectorKind.Scalar || labelCol.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                $"Label column '{labelCol.Name}' must be a Single scalar for regression, but it is {ColumnChecks.Describe(labelCol)}. " +
                $"Load it as float or convert it with mlContext.Transforms.Conversion.ConvertType(\"{labelCol.Name}\", outputKind: DataKind.Single).");
    }

    private protected override ValueGetter<float> CreateLabelGetter(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<float>(label);
        return (ref float value) => getter(ref value);
    }

    private protected override int GetOutputDimension(DataViewSchema.Column label) => 1;

    private protected override DynMoERegressionModelParameters CreateModel(FeatureStandardizer standardizer, TrainedNetwork<CompiledMoEMlp> trained, TrainingDataReader reader)
        => new(Host, standardizer, trained.Network, ToSummary(trained, reader.RowsUsed), reader.LabelShift, reader.LabelDivisor);

    /// <inheritdoc />
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema) => new[]
    {
        new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false,
            new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
    };

    /// <inheritdoc />
    protected override RegressionPredictionTransformer<DynMoERegressionModelParameters> MakeTransformer(DynMoERegressionModelParameters model, DataViewSchema trainSchema)
        => new(Host, model, trainSchema, FeatureColumn.Name);
}
