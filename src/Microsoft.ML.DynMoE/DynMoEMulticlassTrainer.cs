using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Trains a DynMoE network for multiclass classification. The label must be a key (use
/// <c>mlContext.Transforms.Conversion.MapValueToKey</c>); features a known-size vector of Single.
/// Outputs <c>Score</c> (softmax probabilities) and <c>PredictedLabel</c> (a key with the label's values).
/// </summary>
public sealed class DynMoEMulticlassTrainer : DynMoETrainerBase<MulticlassPredictionTransformer<DynMoEMulticlassModelParameters>, DynMoEMulticlassModelParameters, DynMoEMulticlassTrainer.Options>
{
    internal const string LoadName = "DynMoEMulticlass";

    /// <summary>Options for <see cref="DynMoEMulticlassTrainer"/>; see <see cref="DynMoETrainerOptionsBase"/>.</summary>
    public sealed class Options : DynMoETrainerOptionsBase
    {
    }

    internal DynMoEMulticlassTrainer(IHostEnvironment env, Options options)
        : base(env, options, LoadName, TrainerUtils.MakeU4ScalarColumn)
    {
    }

    /// <inheritdoc />
    protected override PredictionKind PredictionKind => PredictionKind.MulticlassClassification;

    private protected override TrainingObjective Objective => TrainingObjective.CrossEntropy;

    /// <inheritdoc />
    protected override void CheckLabelCompatible(SchemaShape.Column labelCol)
    {
        if (!labelCol.IsKey || labelCol.Kind != SchemaShape.Column.VectorKind.Scalar || labelCol.ItemType != NumberDataViewType.UInt32)
            throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName),
                $"Label column '{labelCol.Name}' must be a UInt32 key for multiclass classification, but it is {ColumnChecks.Describe(labelCol)}. " +
                $"Add mlContext.Transforms.Conversion.MapValueToKey(\"{labelCol.Name}\") before the trainer.");
    }

    private protected override ValueGetter<float> CreateLabelGetter(DataViewRow row, DataViewSchema.Column label)
    {
        var getter = row.GetGetter<uint>(label);
        uint key = 0;
        return (ref float value) =>
        {
            getter(ref key);
            value = key == 0 ? float.NaN : key - 1;
        };
    }

    private protected override int GetOutputDimension(DataViewSchema.Column label)
        => label.Type is KeyDataViewType key && key.Count is > 0 and <= int.MaxValue
            ? (int)key.Count
            : throw new ArgumentOutOfRangeException(nameof(DynMoETrainerOptionsBase.LabelColumnName), $"Label column '{label.Name}' must be a key with a known number of values; use MapValueToKey.");

    private protected override void CheckLabelCounts(TrainingDataReader reader, DataViewSchema.Column label)
    {
        if (reader.LabelCounts.Count < 2)
            throw new InvalidOperationException(
                $"Label column '{label.Name}' has a single class ({reader.LabelCounts.Keys.Single() + 1} as a key) in the training data; multiclass classification needs at least two. " +
                "Check the data, the split, or any filter in front of the trainer.");
    }

    private protected override DynMoEMulticlassModelParameters CreateModel(FeatureStandardizer standardizer, TrainedNetwork<CompiledMoEMlp> trained, TrainingDataReader reader)
        => new(Host, standardizer, trained.Network, ToSummary(trained, reader.RowsUsed));

    /// <inheritdoc />
    protected override SchemaShape.Column[] GetOutputColumnsCore(SchemaShape inputSchema)
    {
        bool found = inputSchema.TryFindColumn(LabelColumn.Name, out var labelCol);
        Host.Assert(found);
        var predictedLabelAnnotations = new SchemaShape(labelCol.Annotations.Where(a => a.Name == AnnotationUtils.Kinds.KeyValues)
            .Concat(AnnotationUtils.GetTrainerOutputAnnotation()));
        return new[]
        {
            new SchemaShape.Column(DefaultColumnNames.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false,
                new SchemaShape(AnnotationUtils.AnnotationsForMulticlassScoreColumn(labelCol))),
            new SchemaShape.Column(DefaultColumnNames.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true, predictedLabelAnnotations),
        };
    }

    /// <inheritdoc />
    protected override MulticlassPredictionTransformer<DynMoEMulticlassModelParameters> MakeTransformer(DynMoEMulticlassModelParameters model, DataViewSchema trainSchema)
        => new(Host, model, trainSchema, FeatureColumn.Name, LabelColumn.Name);
}
