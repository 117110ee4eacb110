namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Training rows in fixed-size blocks: appending never copies what is already stored (no doubling slack), so the
/// cache costs rows × (features + 2) × 4 bytes plus at most one partly filled block.
/// </summary>
internal sealed class RowBlockStore
{
    private const int MaximumRowsPerBlock = 8192;

    private readonly int _rowsPerBlock;

    private readonly List<float[]> _features = new();
    private readonly List<float[]> _labels = new();
    private readonly List<float[]> _weights = new();

    /// <param name="featureCount">Floats per row.</param>
    /// <param name="maximumRows">Rows the cache may hold; blocks are never larger than that (or than an array can be).</param>
    public RowBlockStore(int featureCount, long maximumRows = MaximumRowsPerBlock)
    {
        FeatureCount = featureCount;
        _rowsPerBlock = (int)Math.Max(1, Math.Min(Math.Min(MaximumRowsPerBlock, maximumRows), Array.MaxLength / Math.Max(1, featureCount)));
    }

    public int FeatureCount { get; }

    public int Count { get; private set; }

    public void Add(ReadOnlySpan<float> features, float label, float weight)
    {
        int offset = Count % _rowsPerBlock;
        if (offset == 0)
        {
            _features.Add(new float[_rowsPerBlock * FeatureCount]);
            _labels.Add(new float[_rowsPerBlock]);
            _weights.Add(new float[_rowsPerBlock]);
        }
        int block = Count / _rowsPerBlock;
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

    public Span<float> Features(int row) => _features[row / _rowsPerBlock].AsSpan(row % _rowsPerBlock * FeatureCount, FeatureCount);

    public ref float Label(int row) => ref _labels[row / _rowsPerBlock][row % _rowsPerBlock];

    public float Weight(int row) => _weights[row / _rowsPerBlock][row % _rowsPerBlock];
}
