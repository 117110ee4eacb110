namespace Microsoft.ML.DynMoE.Inference;

/// <summary>Counts, over scored rows, how many experts each layer activated and which ones.</summary>
internal sealed class RoutingTally
{
    private readonly long[] _activatedSum;
    private readonly long[][] _expertLoad;

    public RoutingTally(CompiledMoEMlp network)
    {
        _activatedSum = new long[network.LayerCount];
        _expertLoad = NewLoads(network);
    }

    public long Rows { get; private set; }

    /// <summary>Buffers one forward pass fills, so a row is scored once and counted into several tallies.</summary>
    public static RowRouting CreateRowBuffers(CompiledMoEMlp network) => new(new int[network.LayerCount], NewLoads(network));

    public void Count(RowRouting row)
    {
        Rows++;
        for (int i = 0; i < _activatedSum.Length; i++)
        {
            _activatedSum[i] += row.Activated[i];
            for (int e = 0; e < _expertLoad[i].Length; e++)
                _expertLoad[i][e] += row.ExpertLoad[i][e];
        }
    }

    /// <summary>A summary with this tally's counts and the trained model's structure (no training history).</summary>
    public DynMoERoutingSummary ToSummary(DynMoERoutingSummary trained)
    {
        var layers = trained.Layers.Select((layer, i) => new DynMoELayerRouting(
            layer.Layer, layer.Gating, layer.InitialExperts, layer.ActiveExperts, layer.MaximumExperts,
            Rows == 0 ? 0 : (double)_activatedSum[i] / Rows, _expertLoad[i], Array.Empty<int>())).ToArray();
        return new DynMoERoutingSummary(layers, Rows);
    }

    private static long[][] NewLoads(CompiledMoEMlp network)
        => Enumerable.Range(0, network.LayerCount).Select(i => new long[network.GetBlock(i).SlotCount]).ToArray();

    /// <summary>One row's routing: experts activated per layer and, per layer and slot, 1 when the slot was used.</summary>
    internal sealed record RowRouting(int[] Activated, long[][] ExpertLoad)
    {
        public void Clear()
        {
            foreach (var layer in ExpertLoad)
                Array.Clear(layer);
        }
    }
}
