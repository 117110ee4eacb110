using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;
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
        : base(env, options, LoadName, TrainerUtils.MakeU4ScalarColumn, ClassificationTask.Multiclass)
    {
    }

    private protected override DynMoEMulticlassModelParameters CreateModel(FeatureStandardizer standardizer, TrainedNetwork<CompiledMoEMlp> trained, TrainingDataReader reader)
        => new(Host, standardizer, trained.Network, ToSummary(trained, reader.RowsUsed));

    /// <inheritdoc />
    protected override MulticlassPredictionTransformer<DynMoEMulticlassModelParameters> MakeTransformer(DynMoEMulticlassModelParameters model, DataViewSchema trainSchema)
        => new(Host, model, trainSchema, FeatureColumn.Name, LabelColumn.Name);
}
