namespace Microsoft.ML.DynMoE;

/// <summary>
/// Trains a DynMoE Transformer text classifier for a Boolean label, from one text column or a sentence pair.
/// Outputs <c>Score</c> (logit), <c>Probability</c> and <c>PredictedLabel</c> (Boolean).
/// </summary>
public sealed class DynMoEBinaryTextClassificationTrainer : DynMoETextTrainerBase<DynMoEBinaryTextClassificationTrainer.Options>
{
    /// <summary>Options of <see cref="DynMoEBinaryTextClassificationTrainer"/>; see <see cref="DynMoETextOptionsBase"/>.</summary>
    public sealed class Options : DynMoETextOptionsBase
    {
    }

    internal DynMoEBinaryTextClassificationTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(DynMoEBinaryTextClassificationTrainer), ClassificationTask.Binary)
    {
    }
}
