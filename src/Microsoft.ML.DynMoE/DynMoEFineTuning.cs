namespace Microsoft.ML.DynMoE;

/// <summary>What a pretrained text encoder's fine-tuning trains.</summary>
public enum DynMoEFineTuning
{
    /// <summary>The whole encoder (at a lower learning rate), its upcycled DynMoE FFNs, their gates and the head.</summary>
    Full,

    /// <summary>
    /// Only a DynMoE head: the frozen encoder's mean-pooled sentence embeddings are computed once, and one tabular DynMoE
    /// block and a linear head train on them. Much faster; usually less accurate than <see cref="Full"/>.
    /// </summary>
    FrozenEncoder,
}
