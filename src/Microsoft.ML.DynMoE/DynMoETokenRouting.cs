
namespace Microsoft.ML.DynMoE;

/// <summary>How many experts one vocabulary token activates on average (over its occurrences and the MoE layers).</summary>
public sealed class DynMoETokenRouting
{
    internal DynMoETokenRouting(string token, long occurrences, double meanActivatedExperts)
    {
        Token = token;
        Occurrences = occurrences;
        MeanActivatedExperts = meanActivatedExperts;
    }

    /// <summary>The token's text (a word piece, often with its leading space).</summary>
    public string Token { get; }

    /// <summary>How often it occurred in the measured data.</summary>
    public long Occurrences { get; }

    /// <summary>Mean experts it activated, averaged over occurrences and MoE layers.</summary>
    public double MeanActivatedExperts { get; }

    /// <inheritdoc />
    public override string ToString() => $"'{Token}' ×{Occurrences}: {MeanActivatedExperts:F2} experts";
}
