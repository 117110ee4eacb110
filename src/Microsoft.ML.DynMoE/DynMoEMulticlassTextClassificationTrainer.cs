namespace Microsoft.ML.DynMoE;

/// <summary>
/// Trains a DynMoE Transformer text classifier for a key label (use <c>MapValueToKey</c>), from one text column or a sentence pair.
/// Outputs <c>Score</c> (class probabilities, slot names = class names) and <c>PredictedLabel</c> (a key with the label's values).
/// </summary>
public sealed class DynMoEMulticlassTextClassificationTrainer : DynMoETextTrainerBase<DynMoEMulticlassTextClassificationTrainer.Options>
{
    /// <summary>Options of <see cref="DynMoEMulticlassTextClassificationTrainer"/>; see <see cref="DynMoETextOptionsBase"/>.</summary>
    public sealed class Options : DynMoETextOptionsBase
    {
    }

    internal DynMoEMulticlassTextClassificationTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(DynMoEMulticlassTextClassificationTrainer), ClassificationTask.Multiclass)
    {
    }
}
