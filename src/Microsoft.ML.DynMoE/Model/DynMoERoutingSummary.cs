using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML.DynMoE.Layers;

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

    internal void Write(BinaryWriter writer)
    {
        writer.Write(Rows);
        writer.Write(Layers.Count);
        foreach (var layer in Layers)
        {
            writer.Write(layer.Layer);
            writer.Write((int)layer.Gating);
            writer.Write(layer.InitialExperts);
            writer.Write(layer.ActiveExperts);
            writer.Write(layer.MaximumExperts);
            writer.Write(layer.MeanActivatedExpertsPerToken);
            writer.Write(layer.ExpertLoad.Count);
            foreach (long load in layer.ExpertLoad)
                writer.Write(load);
            writer.Write(layer.ExpertCountHistory.Count);
            foreach (int count in layer.ExpertCountHistory)
                writer.Write(count);
        }
    }

    internal static DynMoERoutingSummary Read(BinaryReader reader)
    {
        long rows = reader.ReadInt64();
        var layers = new DynMoELayerRouting[ReadCount(reader, 1024, "routing layers")];
        for (int i = 0; i < layers.Length; i++)
        {
            int index = reader.ReadInt32();
            var gating = (GatingKind)reader.ReadInt32();
            int initial = reader.ReadInt32(), active = reader.ReadInt32(), maximum = reader.ReadInt32();
            double mean = reader.ReadDouble();
            var load = new long[ReadCount(reader, MoELayerOptions.MaximumSlotLimit, "expert loads")];
            for (int j = 0; j < load.Length; j++)
                load[j] = reader.ReadInt64();
            var history = new int[ReadCount(reader, 1 << 20, "expert-count history entries")];
            for (int j = 0; j < history.Length; j++)
                history[j] = reader.ReadInt32();
            layers[i] = new DynMoELayerRouting(index, gating, initial, active, maximum, mean, load, history);
        }
        return new DynMoERoutingSummary(layers, rows);
    }

    private static int ReadCount(BinaryReader reader, int maximum, string what)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > maximum)
            throw new InvalidDataException($"The DynMoE routing summary records {count} {what} (at most {maximum}); the model file is damaged.");
        return count;
    }
}
