using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>What a gate decided for one batch of tokens. The tensors belong to the caller's dispose scope.</summary>
/// <param name="routed">Routed (token, expert) pairs, <c>[S, E]</c> bool.</param>
/// <param name="combineWeights">Combine weights <c>[S, E]</c> float32 (0 where not routed), differentiable.</param>
/// <param name="unrouted">Tokens that activated no expert before any eval fallback, <c>[S]</c> bool.</param>
/// <param name="auxiliaryLoss">Scalar auxiliary loss of this gate for this batch.</param>
internal sealed class GateDecision(Tensor routed, Tensor combineWeights, Tensor unrouted, Tensor auxiliaryLoss)
{
    /// <summary>Routed (token, expert) pairs, <c>[S, E]</c> bool, after any eval fallback.</summary>
    public Tensor Routed { get; } = routed;

    /// <summary>Combine weights <c>[S, E]</c> float32; 0 where not routed.</summary>
    public Tensor CombineWeights { get; } = combineWeights;

    /// <summary>Tokens that activated no expert by the gate rule itself (before any eval fallback), <c>[S]</c> bool.</summary>
    public Tensor Unrouted { get; } = unrouted;

    /// <summary>Scalar auxiliary loss (unweighted).</summary>
    public Tensor AuxiliaryLoss { get; } = auxiliaryLoss;
}
