namespace Microsoft.ML.DynMoE;

/// <summary>How many experts one vocabulary token activates on average (over its occurrences and the MoE layers).</summary>
/// <param name="token">The token's text.</param>
/// <param name="occurrences">How often it occurred in the measured data.</param>
/// <param name="meanActivatedExperts">Mean experts it activated, averaged over occurrences and MoE layers.</param>
public sealed class DynMoETokenRouting(string token, long occurrences, double meanActivatedExperts)
{
    /// <summary>The token's text (a word piece, often with its leading space).</summary>
    public string Token { get; } = token;

    /// <summary>How often it occurred in the measured data.</summary>
    public long Occurrences { get; } = occurrences;

    /// <summary>Mean experts it activated, averaged over occurrences and MoE layers.</summary>
    public double MeanActivatedExperts { get; } = meanActivatedExperts;

    /// <inheritdoc />
    public override string ToString() => $"'{Token}' ×{Occurrences}: {MeanActivatedExperts:F2} experts";
}
