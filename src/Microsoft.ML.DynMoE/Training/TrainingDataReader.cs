namespace Microsoft.ML.DynMoE.Training;

/// <summary>Turns a label column value into the float the objective trains on; NaN means "missing, skip the row".</summary>
internal delegate ValueGetter<float> LabelGetterFactory(DataViewRow row, DataViewSchema.Column label);

/// <summary>
/// Reads the training <see cref="IDataView"/> once: validates every row (missing or infinite labels are skipped and counted;
/// NaN/∞ features fail with the column and row, or are skipped when asked), learns the feature standardisation,
/// and caches the standardised rows when they fit <see cref="DynMoETrainerOptionsBase.MaximumCacheBytes"/>.
/// Beyond the budget it returns a streaming source that re-reads the view every epoch.
/// </summary>
internal sealed class TrainingDataReader
{
    private readonly IDataView _data;
    private readonly DataViewSchema.Column _feature;
    private readonly DataViewSchema.Column _label;
    private readonly DataViewSchema.Column? _weight;
    private readonly LabelGetterFactory _labelGetter;
    private readonly bool _skipNonFinite;

    public TrainingDataReader(RoleMappedData data, LabelGetterFactory labelGetter, bool skipNonFinite)
    {
        _data = data.Data;
        _feature = data.Schema.Feature!.Value;
        _label = data.Schema.Label!.Value;
        _weight = data.Schema.Weight;
        _labelGetter = labelGetter;
        _skipNonFinite = skipNonFinite;
        FeatureCount = ((VectorDataViewType)_feature.Type).Size;
    }

    public int FeatureCount { get; }

    /// <summary>Valid training rows (held-out rows not counted).</summary>
    public long RowsUsed { get; private set; }

    /// <summary>Valid rows held out for validation by <see cref="HoldOut"/>.</summary>
    public long RowsHeldOut { get; private set; }

    /// <summary>When set, the rows it selects are kept out of training and returned by <see cref="ReadTraining"/> as validation.</summary>
    public ValidationSplit? HoldOut { get; set; }

    /// <summary>Counts the rows of the view (valid or not): the view's own count when it knows it, else a pass that reads no values.</summary>
    public long CountRows(Action checkAlive)
    {
        if (_data.GetRowCount() is long known)
            return known;
        long rows = 0;
        using var cursor = _data.GetRowCursor(Array.Empty<DataViewSchema.Column>());
        while (cursor.MoveNext())
        {
            if ((++rows & 1023) == 0)
                checkAlive();
        }
        return rows;
    }

    /// <summary>Rows the cache budget holds; the streaming shuffle buffer stays within it too.</summary>
    public long CacheRows { get; private set; }

    public long RowsWithMissingLabel { get; private set; }

    public long RowsWithNonFiniteFeatures { get; private set; }

    public long RowsWithInvalidWeight { get; private set; }

    /// <summary>Label value → number of rows (classification labels are small integers).</summary>
    public Dictionary<float, long> LabelCounts { get; } = new();

    public double LabelMean { get; private set; }

    public double LabelStd { get; private set; }

    /// <summary>Labels are trained as (label − LabelShift) / LabelDivisor; regression sets these to standardise its target.</summary>
    public float LabelShift { get; set; }

    /// <summary>See <see cref="LabelShift"/>.</summary>
    public float LabelDivisor { get; set; } = 1f;

    internal float EncodeLabel(float label) => (label - LabelShift) / LabelDivisor;

    /// <summary>First pass: statistics and (budget permitting) the cached rows.</summary>
    /// <param name="cacheBytes">Cache budget.</param>
    /// <param name="countLabels">Whether to count rows per label value (classification).</param>
    /// <param name="standardizeLabels">Whether to train on the standardised label (regression).</param>
    /// <param name="checkAlive">Throws when training was cancelled.</param>
    public (FeatureStandardizer Standardizer, ITrainingBatchSource Source, ITrainingBatchSource? HeldOut) ReadTraining(long cacheBytes, bool countLabels, bool standardizeLabels, Action checkAlive)
    {
        var heldOut = HoldOut is null ? null : new RowBlockStore(FeatureCount);
        double heldOutWeight = 0;
        int f = FeatureCount;
        var mean = new double[f];
        var m2 = new double[f];
        double labelMean = 0, labelM2 = 0;
        long rowBytes = (f + 2L) * sizeof(float);
        long cacheRows = cacheBytes / rowBytes;
        var cache = new RowBlockStore(f, cacheRows);
        bool caching = cacheRows > 0;
        CacheRows = cacheRows;

        // Weighted moments (West's update), so a row of weight 2 standardises like two copies of it; with unit weights
        // this is the plain running mean and variance.
        double weightSum = 0;
        foreach (var (row, label, weight, isHeldOut) in ReadRows(checkAlive))
        {
            if (isHeldOut)
            {
                heldOutWeight += weight;
                if (caching)
                    heldOut!.Add(row, label, weight);
                continue;
            }

            long n = RowsUsed;
            if (weight > 0)
            {
                weightSum += weight;
                for (int i = 0; i < f; i++)
                {
                    double delta = row[i] - mean[i];
                    mean[i] += delta * weight / weightSum;
                    m2[i] += weight * delta * (row[i] - mean[i]);
                }
                double labelDelta = label - labelMean;
                labelMean += labelDelta * weight / weightSum;
                labelM2 += weight * labelDelta * (label - labelMean);
            }
            if (countLabels)
                LabelCounts[label] = LabelCounts.GetValueOrDefault(label) + 1;

            if (caching)
            {
                if (n > cacheRows || n > int.MaxValue)
                {
                    // Over the budget: training and held-out rows are both streamed from now on.
                    caching = false;
                    cache.Clear();
                    heldOut?.Clear();
                }
                else
                {
                    cache.Add(row, label, weight);
                }
            }
        }

        LabelMean = labelMean;
        LabelStd = weightSum > 1 ? Math.Sqrt(labelM2 / (weightSum - 1)) : 0;
        var standardizer = FeatureStandardizer.FromMoments(mean, m2, weightSum);
        if (standardizeLabels)
            StandardizeLabels();
        // A held-out set without weight would give a NaN validation loss every epoch: train without it (the trainer says so).
        ITrainingBatchSource? validation = RowsHeldOut == 0 || !(heldOutWeight > 0) ? null
            : caching ? ToInMemory(heldOut!, standardizer)
            : new StreamingBatchSource(this, standardizer, checkAlive, heldOut: true);
        if (!caching)
            return (standardizer, new StreamingBatchSource(this, standardizer, checkAlive), validation);
        return (standardizer, ToInMemory(cache, standardizer), validation);
    }

    /// <summary>Reads a validation view with the training standardisation, always cached.</summary>
    public ITrainingBatchSource ReadValidation(FeatureStandardizer standardizer, Action checkAlive)
    {
        var cache = new RowBlockStore(FeatureCount);
        double weightSum = 0;
        foreach (var (row, label, weight, _) in ReadRows(checkAlive))
        {
            cache.Add(row, label, weight);
            weightSum += weight;
        }
        // An empty or weightless validation set gives a NaN loss every epoch, which early stopping cannot use.
        if (cache.Count == 0 || !(weightSum > 0))
            throw new InvalidOperationException(
                $"The validation data has no usable rows ({cache.Count} rows read; skipped with a missing label: {RowsWithMissingLabel}, with NaN/∞ features: {RowsWithNonFiniteFeatures}, " +
                $"with an invalid weight: {RowsWithInvalidWeight}) or its weights sum to 0. Pass validation rows with a label and a positive weight, or call Fit(trainData) alone.");
        return ToInMemory(cache, standardizer);
    }

    /// <summary>Sets the label encoding from the statistics of the pass just made (regression: standardise the target).</summary>
    public void StandardizeLabels()
    {
        LabelShift = (float)LabelMean;
        LabelDivisor = LabelStd > 1e-12 ? (float)LabelStd : 1f;
    }

    /// <summary>Standardises the cached features and encodes the labels in place.</summary>
    private InMemoryBatchSource ToInMemory(RowBlockStore cache, FeatureStandardizer standardizer)
    {
        for (int r = 0; r < cache.Count; r++)
        {
            var features = cache.Features(r);
            standardizer.Apply(features, features);
            ref float label = ref cache.Label(r);
            label = EncodeLabel(label);
        }
        return new InMemoryBatchSource(cache);
    }

    /// <summary>Valid rows as (dense features, label, weight, held out for validation); the features buffer is reused between rows.</summary>
    internal IEnumerable<(float[] Features, float Label, float Weight, bool HeldOut)> ReadRows(Action checkAlive)
    {
        RowsUsed = RowsHeldOut = RowsWithMissingLabel = RowsWithNonFiniteFeatures = RowsWithInvalidWeight = 0;
        var holdOut = HoldOut?.StartPass();
        var columns = new List<DataViewSchema.Column> { _feature, _label };
        if (_weight is DataViewSchema.Column w)
            columns.Add(w);

        using var cursor = _data.GetRowCursor(columns);
        var featureGetter = cursor.GetGetter<VBuffer<float>>(_feature);
        var labelGetter = _labelGetter(cursor, _label);
        ValueGetter<float>? weightGetter = _weight is DataViewSchema.Column wc ? cursor.GetGetter<float>(wc) : null;
        var buffer = default(VBuffer<float>);
        var dense = new float[FeatureCount];
        long rowIndex = -1;
        float label = 0, weight = 1;

        while (cursor.MoveNext())
        {
            rowIndex++;
            if ((rowIndex & 1023) == 0)
                checkAlive();

            labelGetter(ref label);
            if (!float.IsFinite(label))
            {
                RowsWithMissingLabel++;
                continue;
            }
            if (weightGetter is not null)
            {
                weightGetter(ref weight);
                if (!(weight >= 0) || float.IsInfinity(weight))
                {
                    RowsWithInvalidWeight++;
                    continue;
                }
            }

            featureGetter(ref buffer);
            buffer.CopyTo(dense);
            int bad = FirstNonFinite(dense);
            if (bad >= 0)
            {
                if (_skipNonFinite)
                {
                    RowsWithNonFiniteFeatures++;
                    continue;
                }
                throw ColumnChecks.NonFiniteInput(_feature.Name, dense[bad], rowIndex, bad);
            }

            bool isHeldOut = holdOut?.Invoke(label) ?? false;
            if (isHeldOut)
                RowsHeldOut++;
            else
                RowsUsed++;
            yield return (dense, label, weight, isHeldOut);
        }
    }

    private static int FirstNonFinite(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                return i;
        }
        return -1;
    }
}
