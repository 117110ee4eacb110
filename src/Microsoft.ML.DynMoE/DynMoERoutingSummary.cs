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
        if (rows < 0)
            throw Damaged($"records {rows} rows");
        var layers = new DynMoELayerRouting[ReadCount(reader, 1024, "routing layers")];
        for (int i = 0; i < layers.Length; i++)
        {
            int index = reader.ReadInt32();
            var gating = (GatingKind)reader.ReadInt32();
            if (!System.Enum.IsDefined(gating))
                throw Damaged($"records the unknown gating {(int)gating} for layer {i}");
            int initial = reader.ReadInt32(), active = reader.ReadInt32(), maximum = reader.ReadInt32();
            if (maximum < 1 || maximum > DynMoETrainerOptionsBase.MaximumSlotLimit || initial < 0 || initial > maximum || active < 0 || active > maximum)
                throw Damaged($"records {initial} initial and {active} active experts in {maximum} slots for layer {i}");
            double mean = reader.ReadDouble();
            if (!double.IsFinite(mean) || mean < 0 || mean > maximum)
                throw Damaged($"records {mean} activated experts per token for layer {i}");
            var load = new long[ReadCount(reader, DynMoETrainerOptionsBase.MaximumSlotLimit, "expert loads")];
            if (load.Length != maximum)
                throw Damaged($"records {load.Length} expert loads for the {maximum} slots of layer {i}");
            for (int j = 0; j < load.Length; j++)
            {
                load[j] = reader.ReadInt64();
                if (load[j] < 0)
                    throw Damaged($"records a negative expert load for layer {i}");
            }
            var history = new int[ReadCount(reader, 1 << 20, "expert-count history entries")];
            for (int j = 0; j < history.Length; j++)
            {
                history[j] = reader.ReadInt32();
                if (history[j] < 0 || history[j] > maximum)
                    throw Damaged($"records {history[j]} experts in the history of layer {i}, which has {maximum} slots");
            }
            layers[i] = new DynMoELayerRouting(index, gating, initial, active, maximum, mean, load, history);
        }
        return new DynMoERoutingSummary(layers, rows);
    }

    /// <summary>Checks that the summary describes <paramref name="slots"/>: one routing record per MoE layer, with as many slots.</summary>
    internal void CheckMatches(IReadOnlyList<int> slots)
    {
        if (Layers.Count != slots.Count)
            throw Damaged($"describes {Layers.Count} MoE layers but the network has {slots.Count}");
        for (int i = 0; i < slots.Count; i++)
        {
            if (Layers[i].MaximumExperts != slots[i])
                throw Damaged($"records {Layers[i].MaximumExperts} slots for layer {i} but the network's layer has {slots[i]}");
        }
    }

    private static InvalidDataException Damaged(string what)
        => new($"The DynMoE routing summary {what}; the model file is damaged.");

    private static int ReadCount(BinaryReader reader, int maximum, string what)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > maximum)
            throw new InvalidDataException($"The DynMoE routing summary records {count} {what} (at most {maximum}); the model file is damaged.");
        return count;
    }
}
