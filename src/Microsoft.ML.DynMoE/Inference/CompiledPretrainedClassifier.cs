using Microsoft.ML.DynMoE.Pretrained;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// What the classifiers on a pretrained encoder share: the <see cref="CompiledBertEncoder"/> (which decodes a row of
/// <see cref="BertSequenceInput"/> values and pools its states) and its input limits. The head after it (a linear layer,
/// or a DynMoE network on a frozen encoder) and the rest of <see cref="ICompiledSequenceEncoder"/> are the subclass's.
/// </summary>
internal abstract class CompiledPretrainedClassifier(CompiledBertEncoder encoder)
{
    /// <summary>The pretrained encoder.</summary>
    public CompiledBertEncoder Encoder { get; } = encoder;

    /// <summary>Most input tokens of one row.</summary>
    public int MaximumTokens => Encoder.MaximumPositions;

    /// <summary>False: the pooled embedding has no learned [CLS] state before the tokens.</summary>
    public bool UsesClassToken => false;
}
