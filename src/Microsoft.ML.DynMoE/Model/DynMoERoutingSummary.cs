using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Microsoft.ML.DynMoE;

/// <summary>Routing of every MoE layer of a DynMoE model.</summary>
public sealed class DynMoERoutingSummary
{
    /// <summary>Creates a summary from per-layer records.</summary>
    public DynMoERoutingSummary(IReadOnlyList<DynMoELayerRouting> layers, long rows)
    {
        Layers = layers;
        Rows = rows;
    }

    /// <summary>Per-layer routing, in network order.</summary>
    public IReadOnlyList<DynMoELayerRouting> Layers { get; }

    /// <summary>Rows (tokens) the statistics were measured on.</summary>
    public long Rows { get; }

    /// <summary>Mean activated experts per token, averaged over layers.</summary>
    public double MeanActivatedExpertsPerToken => Layers.Count == 0 ? 0 : Layers.Average(l => l.MeanActivatedExpertsPerToken);

    /// <summary>Active experts summed over layers.</summary>
    public int TotalActiveExperts => Layers.Sum(l => l.ActiveExperts);

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append($"{Rows} rows, {MeanActivatedExpertsPerToken:F2} experts activated per token on average");
        foreach (var layer in Layers)
            text.AppendLine().Append("  ").Append(layer);
        return text.ToString();
    }
}
