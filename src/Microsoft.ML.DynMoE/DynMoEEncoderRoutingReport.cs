namespace Microsoft.ML.DynMoE;

/// <summary>
/// Routing of a DynMoE text or image model measured on a data set: per MoE layer overall and per label (over all
/// tokens; padding never counts), mean activated experts by token position (for images a patch grid, drawn as heatmaps), and for text per vocabulary token.
/// </summary>
public sealed class DynMoEEncoderRoutingReport : DynMoERoutingReport
{
    internal DynMoEEncoderRoutingReport(DynMoERoutingSummary overall, IReadOnlyDictionary<string, DynMoERoutingSummary> byLabel,
        IReadOnlyList<double[]> byPosition, IReadOnlyDictionary<string, IReadOnlyList<double[]>> byPositionAndLabel,
        IReadOnlyList<DynMoETokenRouting> tokens, int positionRows, int positionColumns, bool hasClassToken)
        : base(overall, byLabel)
    {
        ActivatedExpertsByPosition = byPosition;
        ActivatedExpertsByPositionAndLabel = byPositionAndLabel;
        Tokens = tokens;
        PositionRows = positionRows;
        PositionColumns = positionColumns;
        HasClassToken = hasClassToken;
    }

    /// <summary>
    /// <c>[moeLayer][position]</c>: mean experts activated by the tokens at each input position (NaN where no token
    /// occurred). Positions exclude the [CLS] token; for images they are patches in row-major order of a
    /// <see cref="PositionRows"/> × <see cref="PositionColumns"/> grid.
    /// </summary>
    public IReadOnlyList<double[]> ActivatedExpertsByPosition { get; }

    /// <summary>The same per label value.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double[]>> ActivatedExpertsByPositionAndLabel { get; }

    /// <summary>Per vocabulary token (text models; empty for images), most frequent first.</summary>
    public IReadOnlyList<DynMoETokenRouting> Tokens { get; }

    /// <summary>Rows of the position grid (1 for text).</summary>
    public int PositionRows { get; }

    /// <summary>Columns of the position grid (the maximum sequence length for text).</summary>
    public int PositionColumns { get; }

    /// <summary>Whether the model prepends a [CLS] token (its routing is in <see cref="DynMoERoutingReport.Overall"/>, not in the position grid).</summary>
    public bool HasClassToken { get; }

    /// <summary>The tokens that activate the most experts, among those seen at least <paramref name="minimumOccurrences"/> times.</summary>
    public IReadOnlyList<DynMoETokenRouting> MostActivatingTokens(int count = 20, int minimumOccurrences = 5)
        => Tokens.Where(t => t.Occurrences >= minimumOccurrences).OrderByDescending(t => t.MeanActivatedExperts).ThenByDescending(t => t.Occurrences).Take(count).ToArray();

    /// <summary>The tokens that activate the fewest experts, among those seen at least <paramref name="minimumOccurrences"/> times.</summary>
    public IReadOnlyList<DynMoETokenRouting> FewestActivatingTokens(int count = 20, int minimumOccurrences = 5)
        => Tokens.Where(t => t.Occurrences >= minimumOccurrences).OrderBy(t => t.MeanActivatedExperts).ThenByDescending(t => t.Occurrences).Take(count).ToArray();
}
