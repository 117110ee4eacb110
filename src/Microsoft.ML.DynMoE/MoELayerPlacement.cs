namespace Microsoft.ML.DynMoE;

/// <summary>Which Transformer blocks get an MoE layer as their feed-forward network; the others get a dense FFN.</summary>
public enum MoELayerPlacement
{
    /// <summary>The last block and every second block before it (blocks 1 and 3 of 4; block 0 of 1), as MoE Transformers usually alternate.</summary>
    EveryOther,

    /// <summary>Every block.</summary>
    All,

    /// <summary>No block: a dense Transformer, the baseline with the same shape.</summary>
    None,
}
