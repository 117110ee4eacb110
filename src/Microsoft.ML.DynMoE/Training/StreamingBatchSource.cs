namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Training rows that do not fit the cache budget: every epoch re-reads the data view and mixes rows through a
/// bounded shuffle buffer, so memory stays constant however many rows there are.
/// </summary>
internal sealed class StreamingBatchSource : ITrainingBatchSource
{
    private const int ShuffleBufferRows = 16384;

    // The window never shrinks below this (or 8 batches), whatever the cache budget: a window of one batch turns data
    // sorted by label into single-class batches. 4,096 rows of 1,000 features take 16 MB.
    private const int MinimumShuffleRows = 4096;

    private readonly TrainingDataReader _reader;
    private readonly FeatureStandardizer _standardizer;
    private readonly Action _checkAlive;
    private readonly long _rows;
    private readonly bool _heldOut;

    // heldOut: stream the rows the reader holds out for validation instead of the training rows.
    public StreamingBatchSource(TrainingDataReader reader, FeatureStandardizer standardizer, Action checkAlive, bool heldOut = false)
    {
        _reader = reader;
        _standardizer = standardizer;
        _checkAlive = checkAlive;
        _heldOut = heldOut;
        _rows = heldOut ? reader.RowsHeldOut : reader.RowsUsed;
    }

    public int FeatureCount => _reader.FeatureCount;

    public long RowCount => _rows;

    public IEnumerable<TrainingBatch> GetBatches(int batchSize, Random? shuffle)
    {
        int f = FeatureCount;
        // The shuffle window follows the cache budget up to 16,384 rows, with a floor of 4,096 rows or 8 batches, so
        // streaming memory is bounded and batches still mix classes when the rows arrive sorted.
        long window = Math.Max(Math.Max(MinimumShuffleRows, 8L * batchSize), Math.Min(ShuffleBufferRows, _reader.CacheRows));
        int capacity = shuffle is null ? 1 : (int)Math.Max(1, Math.Min(window, _rows));
        batchSize = (int)Math.Max(1, Math.Min(batchSize, _rows));
        var pool = new float[capacity * f];
        var poolLabels = new float[capacity];
        var poolWeights = new float[capacity];
        int filled = 0;
        var batch = new TrainingBatch(batchSize, f);

        foreach (var (features, label, weight, heldOut) in _reader.ReadRows(_checkAlive))
        {
            if (heldOut != _heldOut)
                continue;
            // Once the pool is full, each incoming row evicts a random resident row into the batch.
            int slot = filled;
            if (filled == capacity)
            {
                slot = shuffle?.Next(capacity) ?? 0;
                if (Emit(batch, pool, poolLabels, poolWeights, slot, f))
                {
                    yield return batch;
                    batch.Rows = 0;
                }
            }
            else
            {
                filled++;
            }
            _standardizer.Apply(features, pool.AsSpan(slot * f, f));
            poolLabels[slot] = _reader.EncodeLabel(label);
            poolWeights[slot] = weight;
        }

        // Drain what is left in random order.
        var order = new int[filled];
        for (int i = 0; i < filled; i++)
            order[i] = i;
        shuffle?.Shuffle(order);
        foreach (int slot in order)
        {
            if (Emit(batch, pool, poolLabels, poolWeights, slot, f))
            {
                yield return batch;
                batch.Rows = 0;
            }
        }
        if (batch.Rows > 0)
            yield return batch;
    }

    /// <summary>Copies a pooled row into the batch; true when the batch is full.</summary>
    private static bool Emit(TrainingBatch batch, float[] pool, float[] labels, float[] weights, int slot, int f)
    {
        int r = batch.Rows;
        Array.Copy(pool, (long)slot * f, batch.Features, (long)r * f, f);
        batch.Labels[r] = labels[slot];
        batch.Weights[r] = weights[slot];
        batch.Rows = r + 1;
        return batch.Rows == batch.Labels.Length;
    }
}
