namespace Microsoft.ML.DynMoE;

/// <summary>How a Transformer encoder turns its token states into one vector for the classification head.</summary>
public enum SequencePooling
{
    /// <summary>Mean of the final states of the real (non-padding) tokens.</summary>
    Mean,

    /// <summary>The final state of a learned [CLS] token prepended to every sequence.</summary>
    ClassToken,
}
