using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Training;
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
        : base(env, options, LoadName, TrainerUtils.MakeR4ScalarColumn, classification: null)
    {
    }

    private protected override DynMoERegressionModelParameters CreateModel(FeatureStandardizer standardizer, TrainedNetwork<CompiledMoEMlp> trained, TrainingDataReader reader)
        => new(Host, standardizer, trained.Network, ToSummary(trained, reader.RowsUsed), reader.LabelShift, reader.LabelDivisor);

    /// <inheritdoc />
    protected override RegressionPredictionTransformer<DynMoERegressionModelParameters> MakeTransformer(DynMoERegressionModelParameters model, DataViewSchema trainSchema)
        => new(Host, model, trainSchema, FeatureColumn.Name);
}
