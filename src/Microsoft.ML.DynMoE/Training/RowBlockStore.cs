using System;
using System.Collections.Generic;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Training rows in fixed-size blocks: appending never copies what is already stored (no doubling slack), so the
/// cache costs rows × (features + 2) × 4 bytes plus at most one partly filled block.
/// </summary>
internal sealed class RowBlockStore
{
    private const int RowsPerBlock = 8192;

    private readonly List<float[]> _features = new();
    private readonly List<float[]> _labels = new();
    private readonly List<float[]> _weights = new();

    public RowBlockStore(int featureCount) => FeatureCount = featureCount;

    public int FeatureCount { get; }

    public int Count { get; private set; }

    public void Add(ReadOnlySpan<float> features, float label, float weight)
    {
        int offset = Count % RowsPerBlock;
        if (offset == 0)
        {
            _features.Add(new float[RowsPerBlock * FeatureCount]);
            _labels.Add(new float[RowsPerBlock]);
            _weights.Add(new float[RowsPerBlock]);
        }
        int block = Count / RowsPerBlock;
        features.CopyTo(_features[block].AsSpan(offset * FeatureCount, FeatureCount));
        _labels[block][offset] = label;
        _weights[block][offset] = weight;
        Count++;
    }

    public void Clear()
    {
        _features.Clear();
        _labels.Clear();
        _weights.Clear();
        Count = 0;
    }

    public Span<float> Features(int row) => _features[row / RowsPerBlock].AsSpan(row % RowsPerBlock * FeatureCount, FeatureCount);

    public ref float Label(int row) => ref _labels[row / RowsPerBlock][row % RowsPerBlock];

    public float Weight(int row) => _weights[row / RowsPerBlock][row % RowsPerBlock];
}
