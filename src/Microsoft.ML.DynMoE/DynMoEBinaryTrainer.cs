using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.Trainers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Trains a DynMoE network for binary classification. The label must be Boolean; features a known-size vector of
/// Single. Outputs <c>Score</c> (logit), <c>Probability</c> (its sigmoid) and <c>PredictedLabel</c>.
/// </summary>
public sealed class DynMoEBinaryTrainer : DynMoETrainerBase<BinaryPredictionTransformer<DynMoEBinaryModelParameters>, DynMoEBinaryModelParameters, DynMoEBinaryTrainer.Options>
{
    internal const string LoadName = "DynMoEBinary";

    /// <summary>Options for <see cref="DynMoEBinaryTrainer"/>; see <see cref="DynMoETrainerOptionsBase"/>.</summary>
    public sealed class Options : DynMoETrainerOptionsBase
    {
    }

    internal DynMoEBinaryTrainer(IHostEnvironment env, Options options)
        : base(env, options, LoadName, TrainerUtils.MakeBoolScalarLabel, ClassificationTask.Binary)
    {
    }

    private protected override DynMoEBinaryModelParameters CreateModel(FeatureStandardizer standardizer, TrainedNetwork<CompiledMoEMlp> trained, TrainingDataReader reader)
        => new(Host, standardizer, trained.Network, ToSummary(trained, reader.RowsUsed));

    /// <inheritdoc />
    protected override BinaryPredictionTransformer<DynMoEBinaryModelParameters> MakeTransformer(DynMoEBinaryModelParameters model, DataViewSchema trainSchema)
        => new(Host, model, trainSchema, FeatureColumn.Name);
}
