
namespace Microsoft.ML.DynMoE;

/// <summary>How one MoE layer routes tokens: how many experts exist, how many each token uses, and how that evolved.</summary>
public sealed class DynMoELayerRouting
{
    /// <summary>Creates a routing record for one layer.</summary>
    public DynMoELayerRouting(int layer, GatingKind gating, int initialExperts, int activeExperts, int maximumExperts,
        double meanActivatedExpertsPerToken, IReadOnlyList<long> expertLoad, IReadOnlyList<int> expertCountHistory)
    {
        Layer = layer;
        Gating = gating;
        InitialExperts = initialExperts;
        ActiveExperts = activeExperts;
        MaximumExperts = maximumExperts;
        MeanActivatedExpertsPerToken = meanActivatedExpertsPerToken;
        ExpertLoad = expertLoad;
        ExpertCountHistory = expertCountHistory;
    }

    /// <summary>0-based index of the MoE layer in the network.</summary>
    public int Layer { get; }

    /// <summary>The gating the layer uses.</summary>
    public GatingKind Gating { get; }

    /// <summary>Active experts when training started.</summary>
    public int InitialExperts { get; }

    /// <summary>Active experts in the trained model.</summary>
    public int ActiveExperts { get; }

    /// <summary>Expert slots (the most experts the layer can grow to).</summary>
    public int MaximumExperts { get; }

    /// <summary>Mean number of experts each token activates (eval mode).</summary>
    public double MeanActivatedExpertsPerToken { get; }

    /// <summary>Tokens routed to each slot (length = <see cref="MaximumExperts"/>).</summary>
    public IReadOnlyList<long> ExpertLoad { get; }

    /// <summary>Active experts after each training epoch, plus one last entry when early stopping restored an earlier epoch's weights (training data only; empty for computed reports).</summary>
    public IReadOnlyList<int> ExpertCountHistory { get; }

    /// <inheritdoc />
    public override string ToString()
        => $"layer {Layer} ({Gating}): {ActiveExperts}/{MaximumExperts} experts active (started with {InitialExperts}), {MeanActivatedExpertsPerToken:F2} activated per token, load [{string.Join(", ", ExpertLoad)}]";
}
