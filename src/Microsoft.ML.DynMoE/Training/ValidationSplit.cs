namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// Holds out a seeded, stratified fraction of the training rows for validation when the caller gives no validation
/// set. Within each label value (one stratum for regression) it takes every row where <c>⌊(c+1)·f + u⌋ &gt; ⌊c·f + u⌋</c>
/// (c = rows of that value seen so far, u a seeded offset per value) except a value's first row, so each class gives
/// up round(n·f) ± 1 rows spread over the data and keeps at least one, and a second pass in the same row order picks the
/// same rows (streamed data is re-read every epoch).
/// </summary>
internal sealed class ValidationSplit
{
    private readonly double _fraction;
    private readonly int _seed;
    private readonly bool _stratify;

    public ValidationSplit(double fraction, int seed, bool stratify)
    {
        _fraction = fraction;
        _seed = seed;
        _stratify = stratify;
    }

    public double Fraction => _fraction;

    /// <summary>A selector for one pass over the rows: true for a row to hold out.</summary>
    public Func<float, bool> StartPass()
    {
        var random = new Random(_seed);
        var offsets = new Dictionary<float, double>();
        var counts = new Dictionary<float, long>();
        return label =>
        {
            float stratum = _stratify ? label : 0f;
            if (!offsets.TryGetValue(stratum, out double offset))
                offsets[stratum] = offset = random.NextDouble();
            long seen = counts.GetValueOrDefault(stratum);
            counts[stratum] = seen + 1;
            // A class's first row always trains, so a class with one or two rows is never held out entirely.
            return seen > 0 && Math.Floor((seen + 1) * _fraction + offset) > Math.Floor(seen * _fraction + offset);
        };
    }
}
