namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Encoded sequences (token ids or pixels) held in memory, batched for the Transformer encoders. Variable-length rows
/// are bucketed: each shuffled pool of <see cref="PoolBatches"/> batches is sorted by length and cut into batches, and
/// the batches are shuffled again, so a batch holds sequences of similar length and is padded (with 0) only to its own
/// longest row. <see cref="PaddingFraction"/> reports the padding of the training batches (evaluation passes are not counted).
/// </summary>
internal sealed class SequenceBatchSource : ITrainingBatchSource
{
    /// <summary>Batches per sorting pool: large enough to find similar lengths, small enough to keep batches random.</summary>
    public const int PoolBatches = 50;

    private readonly List<float[]> _rows;
    private readonly float[] _labels;
    private readonly float[] _weights;
    private readonly Action<float[], Random>? _augment;
    private long _paddedValues;
    private long _totalValues;

    /// <param name="rows">One array per example (its length is the example's length).</param>
    /// <param name="labels">Encoded labels.</param>
    /// <param name="weights">Example weights.</param>
    /// <param name="augment">Optional training-time change of a copied row (e.g. a random shift), given the shuffle generator.</param>
    public SequenceBatchSource(List<float[]> rows, float[] labels, float[] weights, Action<float[], Random>? augment = null)
    {
        _rows = rows;
        _labels = labels;
        _weights = weights;
        _augment = augment;
        foreach (var row in rows)
            FeatureCount = Math.Max(FeatureCount, row.Length);
    }

    /// <summary>The longest row.</summary>
    public int FeatureCount { get; }

    public long RowCount => _rows.Count;

    /// <summary>Share of the batch values that were padding, over every batch served so far.</summary>
    public double PaddingFraction => _totalValues == 0 ? 0 : (double)_paddedValues / _totalValues;

    /// <summary>
    /// The training batch size, for every sequence model (text, image patches, a frozen encoder's pooled rows): a text or
    /// image row holds a whole sequence, so a 4× batch's activations are 4× a training step's (on the spam corpus at 256
    /// tokens, the final routing pass at 128 rows lifted the fit's peak resident memory from 862 to 1,132 MiB). Padding
    /// is masked, so results do not depend on it beyond rounding.
    /// </summary>
    public int EvaluationBatchSize(int trainingBatchSize) => trainingBatchSize;

    public IEnumerable<TrainingBatch> GetBatches(int batchSize, Random? shuffle)
    {
        int count = _rows.Count;
        batchSize = Math.Max(1, Math.Min(batchSize, count));
        int[] order = new int[count];
        for (int i = 0; i < count; i++)
            order[i] = i;

        var batches = new List<(int Start, int Count)>();
        if (shuffle is not null)
        {
            shuffle.Shuffle(order);
            int pool = batchSize * PoolBatches;
            for (int start = 0; start < count; start += pool)
            {
                int length = Math.Min(pool, count - start);
                Array.Sort(order, start, length, Comparer<int>.Create((a, b) => _rows[a].Length.CompareTo(_rows[b].Length)));
            }
        }
        else
        {
            // Evaluation order: sorted by length for the least padding; results do not depend on the order.
            Array.Sort(order, Comparer<int>.Create((a, b) => _rows[a].Length != _rows[b].Length ? _rows[a].Length.CompareTo(_rows[b].Length) : a.CompareTo(b)));
        }

        for (int start = 0; start < count; start += batchSize)
            batches.Add((start, Math.Min(batchSize, count - start)));
        if (shuffle is not null)
            shuffle.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batches));

        foreach (var (start, rows) in batches)
        {
            int width = 1;
            for (int i = 0; i < rows; i++)
                width = Math.Max(width, _rows[order[start + i]].Length);
            var batch = new TrainingBatch(rows, width) { Rows = rows };
            for (int i = 0; i < rows; i++)
            {
                int row = order[start + i];
                var values = _rows[row];
                var target = batch.Features.AsSpan(i * width, width);
                values.CopyTo(target);
                if (_augment is not null && shuffle is not null)
                {
                    var copy = target[..values.Length].ToArray();
                    _augment(copy, shuffle);
                    copy.CopyTo(target);
                }

                batch.Labels[i] = _labels[row];
                batch.Weights[i] = _weights[row];
                if (shuffle is not null)
                    _paddedValues += width - values.Length;
            }

            // Training passes only: the log's per-epoch padding figure is about the batches the optimizer sees.
            if (shuffle is not null)
                _totalValues += (long)rows * width;
            yield return batch;
        }
    }
}
