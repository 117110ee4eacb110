namespace Microsoft.ML.DynMoE.Sequence;

/// <summary>The prediction task of an encoder model, which fixes its label type and output columns.</summary>
internal enum SequenceTask
{
    /// <summary>Boolean label; Score (logit), Probability, PredictedLabel.</summary>
    BinaryClassification = 1,

    /// <summary>Key label; Score (class probabilities), PredictedLabel (key).</summary>
    MulticlassClassification = 2,
}
