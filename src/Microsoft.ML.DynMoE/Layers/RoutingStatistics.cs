namespace Microsoft.ML.DynMoE.Layers;

/// <summary>Cumulative routing counts of one <see cref="MoELayer"/> since its last <see cref="MoELayer.ResetRoutingStatistics"/>, over training and eval forwards.</summary>
internal sealed class RoutingStatistics
{
    private readonly long[] _expertLoad;
    private long _activatedPairs;

    internal RoutingStatistics(int slotCount)
    {
        _expertLoad = new long[slotCount];
    }

    /// <summary>Tokens seen by the layer.</summary>
    public long TokensSeen { get; private set; }

    /// <summary>Mean number of experts that processed a token (after the eval fallback); 0 before any token.</summary>
    public double MeanActivatedExpertsPerToken => TokensSeen == 0 ? 0 : (double)_activatedPairs / TokensSeen;

    /// <summary>Tokens routed to each slot (length = slot count, E_max for routed layers). Returns a copy.</summary>
    public long[] ExpertLoad => (long[])_expertLoad.Clone();

    /// <summary>Tokens that activated no expert by the gate rule (in eval they were then sent to the fallback expert).</summary>
    public long UnroutedTokens { get; private set; }

    internal void Add(long tokens, long[] perExpert, long unrouted)
    {
        if (perExpert.Length != _expertLoad.Length) throw new ArgumentException("Per-expert counts have the wrong length.", nameof(perExpert));
        TokensSeen += tokens;
        for (int e = 0; e < perExpert.Length; e++) _expertLoad[e] += perExpert[e];
        _activatedPairs += perExpert.Sum();
        UnroutedTokens += unrouted;
    }
}
