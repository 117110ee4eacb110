using System.Linq;
using Microsoft.ML.DynMoE.Inference;

namespace Microsoft.ML.DynMoE;

/// <summary>Counts, over scored rows, how many experts each layer activated and which ones.</summary>
internal sealed class RoutingTally
{
    private readonly long[] _activatedSum;

    public RoutingTally(CompiledMoEMlp network)
    {
        _activatedSum = new long[network.LayerCount];
        ExpertLoad = Enumerable.Range(0, network.LayerCount).Select(i => new long[network.GetBlock(i).SlotCount]).ToArray();
    }

    public long Rows { get; private set; }

    public long[][] ExpertLoad { get; }

    public void Count(int[] activatedPerLayer)
    {
        Rows++;
        for (int i = 0; i < _activatedSum.Length; i++)
            _activatedSum[i] += activatedPerLayer[i];
    }

    /// <summary>A summary with this tally's counts and the trained model's structure (no training history).</summary>
    public DynMoERoutingSummary ToSummary(DynMoERoutingSummary trained)
    {
        var layers = trained.Layers.Select((layer, i) => new DynMoELayerRouting(
            layer.Layer, layer.Gating, layer.InitialExperts, layer.ActiveExperts, layer.MaximumExperts,
            Rows == 0 ? 0 : (double)_activatedSum[i] / Rows, ExpertLoad[i], System.Array.Empty<int>())).ToArray();
        return new DynMoERoutingSummary(layers, Rows);
    }
}
