namespace Microsoft.ML.DynMoE;

/// <summary>Which auxiliary (regularization) loss each MoE layer adds to the training loss (see <c>AuxiliaryLossWeight</c>).</summary>
public enum AuxiliaryLossKind
{
    /// <summary>
    /// The natural loss for the gating kind: <see cref="DiverseAndSimple"/> for <see cref="GatingKind.TopAny"/>,
    /// <see cref="SwitchLoadBalancing"/> for <see cref="GatingKind.TopK"/>, <see cref="None"/> for <see cref="GatingKind.Dense"/>.
    /// </summary>
    Default,

    /// <summary>Top-any only: DynMoE's diversity term (masked, not squared Frobenius norm) plus the simplicity term (mean gate-column norm).</summary>
    DiverseAndSimple,

    /// <summary>Top-any only: <see cref="DiverseAndSimple"/> plus the DeepSpeed-fork load-balance and efficiency terms.</summary>
    DiverseSimpleBalanceEfficiency,

    /// <summary>Top-k only: Switch/GShard load balancing <c>E_active * sum_e f_e * P_e</c>.</summary>
    SwitchLoadBalancing,

    /// <summary>No auxiliary loss; the layer reports a zero scalar.</summary>
    None,
}
