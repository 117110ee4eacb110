namespace Microsoft.ML.DynMoE;

/// <summary>How one MoE layer routes tokens: how many experts exist, how many each token uses, and how that evolved.</summary>
/// <param name="layer">0-based index of the MoE layer in the network.</param>
/// <param name="gating">The gating the layer uses.</param>
/// <param name="initialExperts">Active experts when training started.</param>
/// <param name="activeExperts">Active experts in the trained model.</param>
/// <param name="maximumExperts">Expert slots (the most experts the layer can grow to).</param>
/// <param name="meanActivatedExpertsPerToken">Mean number of experts each token activates (eval mode).</param>
/// <param name="expertLoad">Tokens routed to each slot.</param>
/// <param name="expertCountHistory">Active experts after each training epoch (empty for computed reports).</param>
public sealed class DynMoELayerRouting(int layer, GatingKind gating, int initialExperts, int activeExperts, int maximumExperts,
    double meanActivatedExpertsPerToken, IReadOnlyList<long> expertLoad, IReadOnlyList<int> expertCountHistory)
{
    /// <summary>0-based index of the MoE layer in the network.</summary>
    public int Layer { get; } = layer;

    /// <summary>The gating the layer uses.</summary>
    public GatingKind Gating { get; } = gating;

    /// <summary>Active experts when training started.</summary>
    public int InitialExperts { get; } = initialExperts;

    /// <summary>Active experts in the trained model.</summary>
    public int ActiveExperts { get; } = activeExperts;

    /// <summary>Expert slots (the most experts the layer can grow to).</summary>
    public int MaximumExperts { get; } = maximumExperts;

    /// <summary>Mean number of experts each token activates (eval mode).</summary>
    public double MeanActivatedExpertsPerToken { get; } = meanActivatedExpertsPerToken;

    /// <summary>Tokens routed to each slot (length = <see cref="MaximumExperts"/>).</summary>
    public IReadOnlyList<long> ExpertLoad { get; } = expertLoad;

    /// <summary>Active experts after each training epoch, plus one last entry when early stopping restored an earlier epoch's weights (training data only; empty for computed reports).</summary>
    public IReadOnlyList<int> ExpertCountHistory { get; } = expertCountHistory;

    /// <inheritdoc />
    public override string ToString()
        => $"layer {Layer} ({Gating}): {ActiveExperts}/{MaximumExperts} experts active (started with {InitialExperts}), {MeanActivatedExpertsPerToken:F2} activated per token, load [{string.Join(", ", ExpertLoad)}]";
}
