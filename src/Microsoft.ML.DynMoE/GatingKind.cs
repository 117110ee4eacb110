namespace Microsoft.ML.DynMoE;

/// <summary>How each MoE layer chooses experts for a token.</summary>
public enum GatingKind
{
    /// <summary>DynMoE top-any gating: each token activates every expert whose sigmoid-cosine score exceeds the expert's trainable threshold (0 to all experts).</summary>
    TopAny,

    /// <summary>Classic top-k gating: a linear router, softmax over the active experts, exactly <c>TopK</c> experts per token.</summary>
    TopK,

    /// <summary>No routing: a single feed-forward expert applied to every token with weight 1 (the dense baseline).</summary>
    Dense,
}
